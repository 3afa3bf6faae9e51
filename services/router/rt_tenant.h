/* rt_tenant: tenant administration on the bus: a TenantStatus request (a supervisor through
 * hetki-dashboard) switches the tenant between active and suspended by storing the next
 * version of its policy with the new status; every replica's policy store hot-reloads it. */
#ifndef RT_TENANT_H
#define RT_TENANT_H

#include "hetki/v1/tenant.pb-c.h"
#include "rt_engine.h"

/* Validates ts, rewrites the status of the tenant's stored policy (or makes a minimal one)
 * and stores it as the next version; fn gets the reply (ERROR_INVALID with the field, or
 * ERROR_UNAVAILABLE when Redis did not answer). Idempotent by ts->command_id. */
void rt_tenant_status(rt_engine_t *e, const Hetki__V1__TenantStatus *ts, rt_reply_fn *fn,
                      void *arg);

#endif
