//! SIGINT, SIGTERM and SIGHUP while lola writes: every temporary file of an
//! output is removed, then the signal takes its ordinary course, so an
//! interrupted command leaves the original file or the whole new one.

/// Installs the cleanup for SIGINT, SIGTERM and SIGHUP, except where the
/// signal is ignored (a background job of a script, `nohup`): those stay
/// ignored. Commands that stop on a signal (`capture`, `exec`) install
/// their own handlers over it later.
pub fn install_cleanup() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: sigaction with a zeroed (valid) struct to read the old
        // disposition, then a handler that only calls async-signal-safe
        // functions.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            action.sa_flags = libc::SA_RESTART;
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    lola::capture::remove_temporary_files();
    // SAFETY: signal and raise are async-signal-safe; the default
    // disposition ends the process as the signal would have.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}
