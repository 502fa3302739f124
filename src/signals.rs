//! Stop requests from signals. SIGTERM (a cancelled or preempted job, `kill`) and SIGUSR1
//! (the warning a job asks for before its time limit, `sbatch --signal`) set one flag;
//! the training loop reads it at every step boundary and stops there, leaving the run to
//! resume from its last finished epoch's checkpoint. Installed by the commands that run
//! units (`convlab run-unit`, grid workers), at the edge.
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only atomics: async-signal-safe.
    SIGNAL.store(sig, Ordering::SeqCst);
    STOP.store(true, Ordering::SeqCst);
}

/// Make SIGTERM and SIGUSR1 request a stop; returns the flag the training loop reads.
pub fn stop_on_term_and_usr1() -> &'static AtomicBool {
    for sig in [libc::SIGTERM, libc::SIGUSR1] {
        // SAFETY: a sigaction with a handler that only stores to atomics; SA_RESTART keeps
        // interrupted system calls (file writes of a checkpoint) going.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
    &STOP
}

/// The signal that requested the stop, if one did (`SIGUSR1`, `SIGTERM`).
pub fn received() -> Option<&'static str> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s if s == libc::SIGUSR1 => Some("SIGUSR1"),
        s if s == libc::SIGTERM => Some("SIGTERM"),
        _ => Some("a signal"),
    }
}
