//! The real binary in a pseudo-terminal: a signal during a run stops sending, records the
//! run's end in the audit log, and leaves the terminal as it found it.

use keyward::audit;
use keyward::emulator::{self, EmulatorOptions, Faults, Seed};
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A pty of `cols` x `rows`: (master, slave).
fn openpty(cols: u16, rows: u16) -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two fds into the out-parameters; name and termios are null.
    let rc = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both fds were just opened and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

fn local_flags(fd: &OwnedFd) -> libc::tcflag_t {
    use std::os::fd::AsRawFd;
    // SAFETY: termios is plain data; tcgetattr fills it for a valid tty fd.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) }, 0);
    t.c_lflag
}

/// Wait until the screen output holds `text`, or fail after 30 s (a hang guard).
fn wait_for(out: &Arc<Mutex<Vec<u8>>>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !String::from_utf8_lossy(&out.lock().unwrap()).contains(text) {
        if Instant::now() > deadline {
            let seen = String::from_utf8_lossy(&out.lock().unwrap()).to_string();
            panic!(
                "gave up waiting for {text:?}; the terminal got: {:?}",
                &seen[seen.len().saturating_sub(2000)..]
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_run_restores_the_terminal_and_records_the_run_end() {
    let mut seed = Seed::generated(1, &["ap-guangzhou"], 0, 60, 0);
    seed.tencent[0].api_keys.iter_mut().for_each(|k| {
        k.usage_plan = None;
        k.disabled = false;
    });
    let emu = emulator::start(EmulatorOptions::new(seed.clone())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[tencent]]\nname = \"sig\"\nregions = [\"ap-guangzhou\"]\nservices = [\"apigateway\"]\n\
             secret_id_env = \"SIG_ID\"\nsecret_key_env = \"SIG_KEY\"\napigateway_endpoint = \"{}\"\n\
             [settings]\naudit_log = \"{}\"\n",
            emu.base_url,
            audit_path.display()
        ),
    )
    .unwrap();

    let (master, slave) = openpty(120, 40);
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyward"));
    // SAFETY: only async-signal-safe calls between fork and exec: a new session whose
    // controlling terminal is the pty (stdin), as a login shell's would be.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .arg("--config")
        .arg(&config)
        .env("SIG_ID", &seed.tencent[0].secret_id)
        .env("SIG_KEY", &seed.tencent[0].secret_key)
        .env("TERM", "xterm-256color")
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave.try_clone().unwrap()))
        .spawn()
        .unwrap();
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    let mut writer = std::fs::File::from(master);
    let out = Arc::new(Mutex::new(Vec::new()));
    let sink = out.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });

    wait_for(&out, "60 items");
    // Slow answers: the run of 120 calls is still going when the signal comes.
    emu.state().set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    // Select all, disable, type the count at a person's pace.
    let mut type_slowly = |text: &str| {
        for b in text.bytes() {
            writer.write_all(&[b]).unwrap();
            std::thread::sleep(Duration::from_millis(120));
        }
    };
    type_slowly("ax");
    std::thread::sleep(Duration::from_millis(500));
    type_slowly("disable 60\r");
    wait_for(&out, "calls, ");
    // SAFETY: kill sends a signal to the child we spawned.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "keyward did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    std::thread::sleep(Duration::from_millis(200));

    // The terminal: bracketed paste off, alternate screen left, cursor shown, cooked mode.
    let screen = String::from_utf8_lossy(&out.lock().unwrap()).to_string();
    let enabled = screen.find("\x1b[?2004h").expect("bracketed paste was enabled");
    let tail = &screen[enabled..];
    for (seq, what) in [
        ("\x1b[?2004l", "bracketed paste off"),
        ("\x1b[?1049l", "alternate screen left"),
        ("\x1b[?25h", "cursor shown"),
    ] {
        assert!(
            tail.contains(seq),
            "{what}: {:?}",
            &tail[tail.len().saturating_sub(300)..]
        );
    }
    let flags = local_flags(&slave);
    assert!(flags & libc::ICANON != 0 && flags & libc::ECHO != 0, "raw mode is off");

    // The audit log: the run ended, cancelled, and every call sent has its outcome.
    let entries = audit::read_entries(&audit_path).unwrap();
    let run_end = entries
        .iter()
        .find(|e| e["type"] == "run_end")
        .expect("a run_end record");
    assert_eq!(run_end["cancelled"], true, "{run_end}");
    assert!(audit::unmatched_intents(&audit_path).unwrap().is_empty());
    let sent = entries.iter().filter(|e| e["type"] == "intent").count();
    assert!(
        sent > 0 && sent < 120,
        "the signal stopped the run midway: {sent} calls sent"
    );
    emu.shutdown().await;
}
