/* takt's vDSO functions (x86-64): clock reads from the clock page, without a stop.
 *
 * The source of the bytes in vdso.rs (`STUBS`); a unit test assembles this file
 * again with `as` (when it is installed) and compares. See vdso.rs for the protocol.
 *
 * The clock page, u64 slots: 0 now (virtual ns), 1 reads since the tracer last looked,
 * 2 reads allowed before the next one must trap, 3 virtual ns one read costs,
 * 4 CLOCK_REALTIME's offset, 5 CLOCK_MONOTONIC's offset. Each function loads the
 * page's address from the movabs at its start (the tracer writes the immediate).
 * A read the page cannot answer (another clock, or no reads left) is the real
 * syscall, which takt traps.
 *
 * Assemble: as -o stubs.o vdso_stubs.S && objcopy -O binary -j .text stubs.o stubs.bin
 */
        .intel_syntax noprefix
        .text
        .globl clock_gettime_stub, gettimeofday_stub, time_stub, gadget, stubs_end
clock_gettime_stub:              /* int clock_gettime(clockid_t edi, struct timespec *rsi) */
        movabs r8, 0x1122334455667788
        cmp edi, 11
        ja 1f
        mov eax, 0x821           /* REALTIME, REALTIME_COARSE, TAI */
        bt eax, edi
        jc 2f
        mov eax, 0xd2            /* MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE, BOOTTIME */
        bt eax, edi
        jnc 1f
        mov r9, [r8 + 40]
        jmp 3f
2:      mov r9, [r8 + 32]
3:      mov rax, [r8 + 8]
        cmp rax, [r8 + 16]
        jae 1f
        inc rax
        mov [r8 + 8], rax
        imul rax, [r8 + 24]
        add rax, [r8]
        add rax, r9
        xor edx, edx
        mov ecx, 1000000000
        div rcx
        mov [rsi], rax
        mov [rsi + 8], rdx
        xor eax, eax
        ret
1:      mov eax, 228             /* SYS_clock_gettime */
        syscall
        ret
gettimeofday_stub:               /* int gettimeofday(struct timeval *rdi, struct timezone *rsi) */
        movabs r8, 0x1122334455667788
        mov rax, [r8 + 8]
        cmp rax, [r8 + 16]
        jae 1f
        inc rax
        mov [r8 + 8], rax
        test rsi, rsi
        jz 4f
        mov qword ptr [rsi], 0
4:      test rdi, rdi
        jz 5f
        imul rax, [r8 + 24]
        add rax, [r8]
        add rax, [r8 + 32]
        xor edx, edx
        mov ecx, 1000000000
        div rcx
        mov [rdi], rax
        mov rax, rdx
        xor edx, edx
        mov ecx, 1000
        div rcx
        mov [rdi + 8], rax
5:      xor eax, eax
        ret
1:      mov eax, 96              /* SYS_gettimeofday */
        syscall
        ret
time_stub:                       /* time_t time(time_t *rdi) */
        movabs r8, 0x1122334455667788
        mov rax, [r8 + 8]
        cmp rax, [r8 + 16]
        jae 1f
        inc rax
        mov [r8 + 8], rax
        imul rax, [r8 + 24]
        add rax, [r8]
        add rax, [r8 + 32]
        xor edx, edx
        mov ecx, 1000000000
        div rcx
        test rdi, rdi
        jz 6f
        mov [rdi], rax
6:      ret
1:      mov eax, 201             /* SYS_time */
        syscall
        ret
gadget:                          /* where the tracer has the process make a syscall */
        syscall
        int3
stubs_end:
