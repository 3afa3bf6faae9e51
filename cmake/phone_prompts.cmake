# hetki-phone announcements: speaks services/phone/prompts/prompts.txt with espeak-ng, turns
# each clip into 8 kHz mono mu-law with sox and embeds the clips in the binary (through
# cmake/embed_files.cmake), so the service needs neither the tools nor any path at run time.
#
# ph_prompts_embed(OUT_VAR) (call it in services/phone/CMakeLists.txt) adds one generation
# step per language (they run only when prompts.txt or this file change, never need the
# network) and sets OUT_VAR to the generated C file to compile; its header
# ph_prompt_clips.h (in CMAKE_CURRENT_BINARY_DIR) declares ph_prompt_clips_find("/fi/welcome.ul").
# Lines of prompts.txt are "lang|name|text" (no ';' in texts); "voice|lang|espeak voice" picks
# the voice. Running as a script (cmake -P) generates one language: see the function below.

if(CMAKE_SCRIPT_MODE_FILE)
  file(STRINGS ${PROMPTS} lines ENCODING UTF-8)
  set(voice ${LANG})
  foreach(line ${lines})
    if(line MATCHES "^voice\\|${LANG}\\|(.+)$")
      set(voice ${CMAKE_MATCH_1})
    endif()
  endforeach()
  file(MAKE_DIRECTORY ${OUTDIR}/${LANG})
  set(wav ${OUTDIR}/${LANG}/.speech.wav)
  foreach(line ${lines})
    if(NOT line MATCHES "^${LANG}\\|([a-z0-9_]+)\\|(.+)$")
      continue()
    endif()
    set(name ${CMAKE_MATCH_1})
    set(text ${CMAKE_MATCH_2})
    execute_process(COMMAND ${ESPEAK} -v ${voice} -s 150 -w ${wav} "${text}"
      RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "espeak-ng failed (${rc}) for ${LANG}/${name}")
    endif()
    # Telephone band, peak at -3 dB, leading/trailing silence trimmed (so clips join
    # tightly when a time is composed) and 60 ms of silence after each clip. No dither: it
    # would put hiss into the silences.
    execute_process(COMMAND ${SOX} -D ${wav} -r 8000 -c 1 -t ul ${OUTDIR}/${LANG}/${name}.ul
      gain -6 highpass 150 lowpass 3400 norm -3
      silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse pad 0 0.06
      RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "sox failed (${rc}) for ${LANG}/${name}")
    endif()
  endforeach()
  file(REMOVE ${wav})
  return()
endif()

include(${CMAKE_CURRENT_LIST_DIR}/embed_files.cmake)
set(PH_PROMPTS_SCRIPT ${CMAKE_CURRENT_LIST_FILE})

function(ph_prompts_embed out_var)
  find_program(PH_ESPEAK_NG espeak-ng REQUIRED)
  find_program(PH_SOX sox REQUIRED)
  set(txt ${PROJECT_SOURCE_DIR}/services/phone/prompts/prompts.txt)
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/prompts)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${txt})
  file(STRINGS ${txt} lines ENCODING UTF-8)
  set(langs "")
  foreach(line ${lines})
    if(line MATCHES "^([a-z][a-z])\\|([a-z0-9_]+)\\|")
      list(APPEND langs ${CMAKE_MATCH_1})
      list(APPEND clips_${CMAKE_MATCH_1} ${gen}/${CMAKE_MATCH_1}/${CMAKE_MATCH_2}.ul)
    endif()
  endforeach()
  list(REMOVE_DUPLICATES langs)
  set(all "")
  foreach(lang ${langs})
    add_custom_command(
      OUTPUT ${clips_${lang}}
      COMMAND ${CMAKE_COMMAND} -DPROMPTS=${txt} -DLANG=${lang} -DOUTDIR=${gen}
        -DESPEAK=${PH_ESPEAK_NG} -DSOX=${PH_SOX} -P ${PH_PROMPTS_SCRIPT}
      DEPENDS ${txt} ${PH_PROMPTS_SCRIPT}
      COMMENT "speaking the ${lang} announcements (espeak-ng, sox)"
      VERBATIM)
    list(APPEND all ${clips_${lang}})
  endforeach()
  hk_embed_files(ph_prompt_clips ${gen} ${all})
  set(${out_var} ${CMAKE_CURRENT_BINARY_DIR}/ph_prompt_clips.c PARENT_SCOPE)
endfunction()
