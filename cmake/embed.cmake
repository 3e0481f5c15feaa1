# netpulse_embed(OUTPUT <file.cpp> NAMESPACE <ns> FILES <f>... [BASE <dir>])
# Generates a .cpp that defines `std::span<const EmbeddedFile> <ns>::embedded_files()` holding
# every file's bytes, so the binary carries its defaults, migrations and web assets.
function(netpulse_embed)
  cmake_parse_arguments(E "" "OUTPUT;NAMESPACE;BASE" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${E_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${E_OUTPUT} -DNAMESPACE=${E_NAMESPACE} -DBASE=${E_BASE}
            "-DFILES=${E_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${E_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding ${E_NAMESPACE} files"
    VERBATIM)
endfunction()
