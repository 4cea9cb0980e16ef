# fw_qemu_boot: the bootloader's start-up path on QEMU mps2-an500.
#  1. stamped test app v1.2.3 in the slot: the bootloader must say
#     "boot: valid image v1.2.3 -> start app" and the app "app: started"
#     (entered through its own vector table: VTOR and MSP checked);
#  2. the same app with one body byte flipped: "boot: stay in DFU", no app.
#  3. no app at all: "boot: stay in DFU".
set(SLOT 0x00020000)
set(AREA 0x001E0000) # the record area: the last sector of the QEMU flash map
function(run_qemu out_var)
    execute_process(COMMAND timeout 20 ${QEMU} -M mps2-an500 -display none -monitor none
        -serial null -semihosting-config enable=on,target=native
        -kernel ${BOOT} ${ARGN}
        RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    message("qemu (${rc}):\n${out}${err}")
    # QEMU writes the semihosting console to stderr or stdout depending on
    # the version: look at both.
    set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()

foreach(mode good corrupt)
    set(extra "")
    if(mode STREQUAL "corrupt")
        set(extra corrupt)
    endif()
    execute_process(COMMAND ${STAMP} ${APP_BIN} ${SLOT} 1.2.3 ${WORK}/hdr-${mode}.bin
        ${WORK}/body-${mode}.bin ${extra} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "qemu_stamp failed")
    endif()
endforeach()

run_qemu(out -device loader,file=${WORK}/hdr-good.bin,addr=${AREA}
             -device loader,file=${WORK}/body-good.bin,addr=${SLOT})
if(NOT out MATCHES "boot: valid image v1\\.2\\.3 -> start app\n" OR NOT out MATCHES "app: started\n")
    message(FATAL_ERROR "valid image: expected the bootloader to start the app")
endif()

run_qemu(out -device loader,file=${WORK}/hdr-corrupt.bin,addr=${AREA}
             -device loader,file=${WORK}/body-corrupt.bin,addr=${SLOT})
if(NOT out MATCHES "boot: stay in DFU \\([^)]*: bad body CRC\\)" OR out MATCHES "app:")
    message(FATAL_ERROR "corrupt image: expected DFU mode and no app")
endif()

run_qemu(out)
if(NOT out MATCHES "boot: stay in DFU" OR out MATCHES "app:")
    message(FATAL_ERROR "no image: expected DFU mode")
endif()
