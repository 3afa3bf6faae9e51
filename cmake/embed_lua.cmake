# Embeds Lua script files into a generated C file, so scripts stay files in the source tree
# and binaries need no path at run time.
#
# hk_embed_lua(OUT PREFIX FILE...) generates OUT defining
#   const char *PREFIX_get(const char *name);   /* name = file name without .lua; NULL if none */
# A file named _prelude.lua among FILES is not a script of its own: its text is put in front of
# every other script, so that scripts share helper functions and stay one EVALSHA each.
# Running as a script (cmake -P) does the generation; see the function below.

if(CMAKE_SCRIPT_MODE_FILE)
  file(WRITE ${OUT} "/* Generated from Lua script files by cmake/embed_lua.cmake: do not edit. */\n#include <string.h>\n\n")
  set(names "")
  set(prelude "")
  foreach(f ${FILES})
    get_filename_component(name ${f} NAME_WE)
    if(name STREQUAL "_prelude")
      file(READ ${f} prelude HEX)
    endif()
  endforeach()
  foreach(f ${FILES})
    get_filename_component(name ${f} NAME_WE)
    if(name STREQUAL "_prelude")
      continue()
    endif()
    file(READ ${f} hex HEX)
    set(hex "${prelude}${hex}")
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
    file(APPEND ${OUT} "static const char s_${name}[] = {${bytes}0x00};\n")
    list(APPEND names ${name})
  endforeach()
  file(APPEND ${OUT} "\nconst char *${PREFIX}_get(const char *name);\nconst char *${PREFIX}_get(const char *name) {\n")
  foreach(name ${names})
    file(APPEND ${OUT} "    if (strcmp(name, \"${name}\") == 0) {\n        return s_${name};\n    }\n")
  endforeach()
  file(APPEND ${OUT} "    return NULL;\n}\n")
  return()
endif()

set(HK_EMBED_LUA_SCRIPT ${CMAKE_CURRENT_LIST_FILE})
function(hk_embed_lua out prefix)
  set(files ${ARGN})
  string(REPLACE ";" "\\;" files_arg "${files}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DPREFIX=${prefix} "-DFILES=${files}" -P ${HK_EMBED_LUA_SCRIPT}
    DEPENDS ${files} ${HK_EMBED_LUA_SCRIPT}
    COMMENT "embedding Lua scripts for ${prefix}"
    VERBATIM)
endfunction()
