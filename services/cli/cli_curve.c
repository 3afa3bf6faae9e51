/* cli_curve: `hetki curve-keygen`, a new CURVE key pair for a deployment's CurveZMQ (see
 * common/hk_curve.h): prints the line to give every service, the CLI and the tools. */
#include "cli.h"

#include <stdio.h>
#include <zmq.h>

int cli_curve_keygen(int argc, char **argv) {
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "usage: hetki curve-keygen\n");
        return 2;
    }
    char public_[41], secret[41];
    if (!zmq_has("curve") || zmq_curve_keypair(public_, secret) != 0) {
        fprintf(stderr, "hetki: this ZeroMQ library has no CURVE support\n");
        return 1;
    }
    printf("HETKI_CURVE_SECRET_KEY='%s'\n", secret);
    printf("# public key %s (every process derives it from the secret)\n", public_);
    return 0;
}
