# Embeds Lua script files into a generated C file, so scripts stay files in the source tree
# and binaries need no path at run time.
#
# hk_embed_lua(OUT PREFIX FILE...) generates OUT defining
#   const char *PREFIX_get(const char *name);   /* name = file name without .lua; NULL if none */
# A file named _prelude.lua among FILES is not a script of its own: it holds helpers the
# scripts share and a function begin(keys, argv) that sets their per-call state. Then OUT also
# defines
#   const char *PREFIX_library(void);               /* a Redis function library */
#   const char *PREFIX_function(const char *name);  /* a script's function in it; NULL if none */
# The library is the prelude followed by every script registered as a function named
# <name>_<version> whose body starts with begin(KEYS, ARGV); its name is PREFIX_<version>, the
# version being a digest of the scripts, so routers of two releases can share one Redis. Each
# PREFIX_get text (prelude, begin(KEYS, ARGV), the script) still runs with EVAL on its own.
# Running as a script (cmake -P) does the generation; see the function below.

if(CMAKE_SCRIPT_MODE_FILE)
  file(WRITE ${OUT} "/* Generated from Lua script files by cmake/embed_lua.cmake: do not edit. */\n#include <string.h>\n\n")
  set(names "")
  set(prelude "")
  set(prelude_text "")
  file(READ ${CMAKE_CURRENT_LIST_FILE} all_text) # this generator's wrapping is part of the version
  foreach(f ${FILES})
    get_filename_component(name ${f} NAME_WE)
    file(READ ${f} text)
    string(APPEND all_text "${name}\n${text}")
    if(name STREQUAL "_prelude")
      file(READ ${f} prelude HEX)
      set(prelude_text "${text}")
    endif()
  endforeach()
  string(SHA1 digest "${all_text}")
  string(SUBSTRING "${digest}" 0 12 version)
  string(HEX "\nbegin(KEYS, ARGV)\n" begin_hex)
  string(HEX "#!lua name=${PREFIX}_${version}\n" library)
  string(APPEND library "${prelude}")
  foreach(f ${FILES})
    get_filename_component(name ${f} NAME_WE)
    if(name STREQUAL "_prelude")
      continue()
    endif()
    file(READ ${f} hex HEX)
    if(prelude)
      string(HEX "\nredis.register_function{function_name = '${name}_${version}', callback = function(KEYS, ARGV)\nbegin(KEYS, ARGV)\n" open_hex)
      string(HEX "\nend}\n" close_hex)
      string(APPEND library "${open_hex}${hex}${close_hex}")
      set(hex "${prelude}${begin_hex}${hex}")
    endif()
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
    file(APPEND ${OUT} "static const char s_${name}[] = {${bytes}0x00};\n")
    list(APPEND names ${name})
  endforeach()
  file(APPEND ${OUT} "\nconst char *${PREFIX}_get(const char *name);\nconst char *${PREFIX}_get(const char *name) {\n")
  foreach(name ${names})
    file(APPEND ${OUT} "    if (strcmp(name, \"${name}\") == 0) {\n        return s_${name};\n    }\n")
  endforeach()
  file(APPEND ${OUT} "    return NULL;\n}\n")
  if(prelude)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${library}")
    file(APPEND ${OUT} "\nstatic const char s_library[] = {${bytes}0x00};\n")
    file(APPEND ${OUT} "const char *${PREFIX}_library(void);\nconst char *${PREFIX}_library(void) {\n    return s_library;\n}\n")
    file(APPEND ${OUT} "\nconst char *${PREFIX}_function(const char *name);\nconst char *${PREFIX}_function(const char *name) {\n")
    foreach(name ${names})
      file(APPEND ${OUT} "    if (strcmp(name, \"${name}\") == 0) {\n        return \"${name}_${version}\";\n    }\n")
    endforeach()
    file(APPEND ${OUT} "    return NULL;\n}\n")
  endif()
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
