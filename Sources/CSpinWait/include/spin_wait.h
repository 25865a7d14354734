// A hint for busy-wait loops (x86's `pause`): the spinning core backs off,
// saving power and, on a core shared by two hardware threads, leaving its
// execution units to the thread doing the work. Swift has no such intrinsic.
#ifndef DLMC_SPIN_WAIT_H
#define DLMC_SPIN_WAIT_H

static inline void dlmc_spin_wait_hint(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
