//! Stop requests from signals. SIGTERM (a cancelled or preempted job, `kill`) and SIGUSR1
//! (the warning a job asks for before its time limit, `sbatch --signal`) set one flag;
//! the training loop reads it at every step boundary and stops there, leaving the run to
//! resume from its last finished epoch's checkpoint. Installed by the commands that run
//! units (`convlab run-unit`, grid workers), at the edge.
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicUsize = AtomicUsize::new(0);

/// Make SIGTERM and SIGUSR1 request a stop (signal-hook's handlers only store to atomics and
/// keep `SA_RESTART`, so interrupted writes of a checkpoint go on); returns the flag the
/// training loop reads. Installing twice is the same as once.
pub fn stop_on_term_and_usr1() -> &'static AtomicBool {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        for sig in [libc::SIGTERM, libc::SIGUSR1] {
            // Which signal first, then the flag: a reader that sees the flag sees the signal.
            // Neither signal is one signal-hook forbids, so registering cannot fail.
            signal_hook::flag::register_usize(sig, &SIGNAL, sig as usize)
                .expect("SIGTERM and SIGUSR1 can be handled");
            signal_hook::flag::register(sig, &STOP).expect("SIGTERM and SIGUSR1 can be handled");
        }
    });
    &STOP
}

/// The signal that requested the stop, if one did (`SIGUSR1`, `SIGTERM`).
pub fn received() -> Option<&'static str> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s if s == libc::SIGUSR1 as usize => Some("SIGUSR1"),
        s if s == libc::SIGTERM as usize => Some("SIGTERM"),
        _ => Some("a signal"),
    }
}
