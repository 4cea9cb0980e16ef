# fw_stamp_demo_app: h7dfu image stamp -V 1.0.0 demo-app.elf OUT, then
# h7dfu image info OUT; both must exit 0 and info must name the version.
file(REMOVE ${OUT})
execute_process(COMMAND ${H7DFU} image stamp -V 1.0.0 ${IN} ${OUT}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0 OR NOT EXISTS ${OUT})
    message(FATAL_ERROR "h7dfu image stamp failed (${rc})")
endif()
execute_process(COMMAND ${H7DFU} image info ${OUT}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "h7dfu image info: the bootloader would refuse the stamped demo app (${rc})")
endif()
if(NOT out MATCHES "1\\.0\\.0")
    message(FATAL_ERROR "h7dfu image info does not show version 1.0.0")
endif()
if(NOT out MATCHES "record      0x081e0000" OR NOT out MATCHES "body        0x08020000")
    message(FATAL_ERROR "h7dfu image info does not show the record at 0x081e0000 and the body at 0x08020000")
endif()
# The unstamped build must be refused (no record in the record area).
execute_process(COMMAND ${H7DFU} image info ${IN} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
if(rc EQUAL 0)
    message(FATAL_ERROR "h7dfu image info accepts the UNSTAMPED demo-app.elf")
endif()
