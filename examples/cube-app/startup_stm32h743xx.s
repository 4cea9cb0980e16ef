/*
 * Start-up file in the shape of the startup_stm32h743xx.s CubeMX adds (ST's
 * file is not part of this repository): the vector table g_pfnVectors and
 * Reset_Handler: stack pointer, SystemInit, .data copy, .bss zero, static
 * constructors, main. ST's table names a weak handler for each of the 150
 * interrupt positions; this one points them all at Default_Handler.
 *
 * Nothing here changes for h7dfu: the table is linked at the start of FLASH,
 * which the linker script moves to 0x08020000, and the shared request block
 * is in .noinit, which this code neither copies nor zeroes.
 */
    .syntax unified
    .cpu cortex-m7
    .fpu softvfp
    .thumb

    .global g_pfnVectors
    .global Default_Handler

    .section .text.Reset_Handler,"ax",%progbits
    .weak Reset_Handler
    .type Reset_Handler, %function
Reset_Handler:
    ldr sp, =_estack
    bl SystemInit
    ldr r0, =_sdata
    ldr r1, =_edata
    ldr r2, =_sidata
    b 2f
1:  ldr r3, [r2], #4
    str r3, [r0], #4
2:  cmp r0, r1
    bcc 1b
    ldr r0, =_sbss
    ldr r1, =_ebss
    movs r3, #0
    b 4f
3:  str r3, [r0], #4
4:  cmp r0, r1
    bcc 3b
    bl __libc_init_array
    bl main
5:  b 5b
    .size Reset_Handler, .-Reset_Handler

    .section .text.Default_Handler,"ax",%progbits
    .type Default_Handler, %function
Default_Handler:
    b Default_Handler
    .size Default_Handler, .-Default_Handler

    .section .isr_vector,"a",%progbits
    .type g_pfnVectors, %object
g_pfnVectors:
    .word _estack
    .word Reset_Handler
    .word NMI_Handler
    .word HardFault_Handler
    .word MemManage_Handler
    .word BusFault_Handler
    .word UsageFault_Handler
    .word 0, 0, 0, 0
    .word SVC_Handler
    .word DebugMon_Handler
    .word 0
    .word PendSV_Handler
    .word SysTick_Handler
    .rept 150
    .word Default_Handler
    .endr
    .size g_pfnVectors, .-g_pfnVectors

    .weak NMI_Handler
    .thumb_set NMI_Handler, Default_Handler
    .weak HardFault_Handler
    .thumb_set HardFault_Handler, Default_Handler
    .weak MemManage_Handler
    .thumb_set MemManage_Handler, Default_Handler
    .weak BusFault_Handler
    .thumb_set BusFault_Handler, Default_Handler
    .weak UsageFault_Handler
    .thumb_set UsageFault_Handler, Default_Handler
    .weak SVC_Handler
    .thumb_set SVC_Handler, Default_Handler
    .weak DebugMon_Handler
    .thumb_set DebugMon_Handler, Default_Handler
    .weak PendSV_Handler
    .thumb_set PendSV_Handler, Default_Handler
    .weak SysTick_Handler
    .thumb_set SysTick_Handler, Default_Handler
