# USB VID:PID of the bootloader and of the demo application: build options
# (docs/windows.md has the trade-off). The defaults are ST's DFU ID 0483:df11,
# which dfu-util, STM32CubeProgrammer and h7dfu look for, and 0483:5750 for the
# demo application. Numbers as C accepts them, e.g. -DH7_BOOTLOADER_PID=0x1234.
set(H7_BOOTLOADER_VID 0x0483 CACHE STRING "USB idVendor of the bootloader")
set(H7_BOOTLOADER_PID 0xDF11 CACHE STRING "USB idProduct of the bootloader")
set(H7_DEMO_APP_VID 0x0483 CACHE STRING "USB idVendor of the demo application")
set(H7_DEMO_APP_PID 0x5750 CACHE STRING "USB idProduct of the demo application")

# h7_usb_ids(TARGET SCOPE): the IDs as compile definitions of a target that
# builds firmware/bootloader/bootloader.c or firmware/demo-app/demo_app.c.
function(h7_usb_ids target scope)
    target_compile_definitions(${target} ${scope}
        BOOTLOADER_VID=${H7_BOOTLOADER_VID}u BOOTLOADER_PID=${H7_BOOTLOADER_PID}u
        DEMO_APP_VID=${H7_DEMO_APP_VID}u DEMO_APP_PID=${H7_DEMO_APP_PID}u)
endfunction()
