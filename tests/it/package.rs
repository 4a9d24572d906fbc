//! The Debian package: built by `scripts/deb` from the binaries under test, installed with
//! dpkg on this machine, checked as an operator would, and purged. It needs root and dpkg
//! (CI runs the suite as root on Debian); elsewhere it says so and does nothing, and it never
//! touches an ispd package already installed on the machine.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::daemon::{ISPD, TempDir, ispctl, stderr, stdout};

#[test]
fn the_deb_installs_checks_its_config_and_purges() {
    let root = nix_root();
    let dpkg = Command::new("dpkg-deb").arg("--version").output().is_ok();
    if !root || !dpkg {
        eprintln!("not root or no dpkg: the package test needs both (CI has them)");
        return;
    }
    if run("dpkg", &["-s", "ispd"]).status.success() {
        eprintln!("an ispd package is installed on this machine: left alone, test skipped");
        return;
    }
    let dir = TempDir::new("deb");
    let bins = dir.0.join("bin");
    std::fs::create_dir_all(&bins).unwrap();
    std::os::unix::fs::symlink(ISPD, bins.join("ispd")).unwrap();
    std::os::unix::fs::symlink(ispctl(), bins.join("ispctl")).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out_dir = dir.0.join("out");
    let built = Command::new("bash")
        .arg(repo.join("scripts/deb"))
        .args(["--fast", "--bin-dir"])
        .arg(&bins)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "scripts/deb: {}", stderr(&built));
    let deb = stdout(&built).trim().to_owned();
    let name = Path::new(&deb)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        name,
        format!("ispd_{}_{}.deb", env!("CARGO_PKG_VERSION"), arch())
    );

    let installed = run("dpkg", &["-i", &deb]);
    let _purge = Purge;
    assert!(
        installed.status.success(),
        "dpkg -i: {}",
        stderr(&installed)
    );
    let ispd_gid = gid_of("ispd");
    for (path, mode, uid, gid) in [
        ("/usr/bin/ispd", 0o755, 0, 0),
        ("/usr/bin/ispctl", 0o755, 0, 0),
        ("/usr/lib/systemd/system/ispd.service", 0o644, 0, 0),
        ("/usr/lib/sysusers.d/ispd.conf", 0o644, 0, 0),
        ("/usr/lib/tmpfiles.d/ispd.conf", 0o644, 0, 0),
        ("/etc/ispd/ispd.toml", 0o640, 0, ispd_gid),
        ("/var/lib/ispd", 0o750, uid_of("ispd"), ispd_gid),
    ] {
        let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(
            (meta.mode() & 0o7777, meta.uid(), meta.gid()),
            (mode, uid, gid),
            "{path}: mode, owner, group"
        );
    }
    let conffiles = std::fs::read_to_string("/var/lib/dpkg/info/ispd.conffiles").unwrap();
    assert_eq!(conffiles.trim(), "/etc/ispd/ispd.toml");
    let check = run("/usr/bin/ispd", &["check-config", "/etc/ispd/ispd.toml"]);
    assert!(check.status.success(), "check-config: {}", stderr(&check));
    assert!(
        Path::new("/usr/share/doc/ispd/ispctl.help").is_file(),
        "the --help output is the documentation"
    );

    // The admin API's TLS key, put beside the config by the operator (README "Remote
    // administration over TLS"): a purge leaves it (found probing from outside: `rm -rf
    // /etc/ispd` took it).
    std::fs::write("/etc/ispd/admin.key", "operator's").unwrap();
    let purged = run("dpkg", &["--purge", "ispd"]);
    assert!(purged.status.success(), "dpkg --purge: {}", stderr(&purged));
    for gone in [
        "/usr/bin/ispd",
        "/usr/bin/ispctl",
        "/etc/ispd/ispd.toml",
        "/usr/lib/systemd/system/ispd.service",
    ] {
        assert!(!Path::new(gone).exists(), "{gone} is left after purge");
    }
    assert_eq!(
        std::fs::read_to_string("/etc/ispd/admin.key").unwrap(),
        "operator's"
    );
    std::fs::remove_dir_all("/etc/ispd").unwrap();
}

/// Purges the package however the test ends, so a failed assertion leaves no install behind.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let _ = run("dpkg", &["--purge", "ispd"]);
    }
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program).args(args).output().unwrap()
}

fn nix_root() -> bool {
    stdout(&run("id", &["-u"])).trim() == "0"
}

fn arch() -> String {
    stdout(&run("dpkg", &["--print-architecture"]))
        .trim()
        .to_owned()
}

fn uid_of(user: &str) -> u32 {
    field(&run("getent", &["passwd", user]), 2)
}

fn gid_of(group: &str) -> u32 {
    field(&run("getent", &["group", group]), 2)
}

fn field(out: &Output, index: usize) -> u32 {
    stdout(out)
        .trim()
        .split(':')
        .nth(index)
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| panic!("getent: {}", stdout(out)))
}
