//! The admin API over TLS: a test CA made with openssl, ispctl's --ca/--cert/--key, a wrong CA
//! refused, client certificates required, a renewed certificate served after SIGHUP, and a
//! listener beyond loopback refused without TLS.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::daemon::{Daemon, TempDir, stderr, stdout};

/// Runs openssl in `dir`, failing the test with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (Debian: apt install openssl)");
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

/// A CA (`<name>.pem`, `<name>.key`) in `dir`.
fn ca(dir: &Path, name: &str) -> PathBuf {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
    dir.join(format!("{name}.pem"))
}

/// A certificate `<name>.pem` with key `<name>.key`, signed by CA `ca`, for `usage`
/// (serverAuth with the loopback names, or clientAuth).
fn leaf(dir: &Path, ca: &str, name: &str, usage: &str) -> (PathBuf, PathBuf) {
    let ext = dir.join(format!("{name}.ext"));
    let san = if usage == "serverAuth" {
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
    } else {
        ""
    };
    std::fs::write(
        &ext,
        format!("basicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n{san}"),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            ext.to_str().unwrap(),
            "-out",
            &format!("{name}.pem"),
        ],
    );
    (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A daemon whose admin API serves `cert`/`key`, and `[admin]` `extra` keys.
fn tls_daemon(name: &str, cert: &Path, key: &Path, extra: &str) -> Daemon {
    Daemon::start_edited(name, None, |base| {
        base.replace(
            "[admin]\n",
            &format!(
                "[admin]\ntls_cert = {:?}\ntls_key = {:?}\n{extra}",
                path(cert),
                path(key)
            ),
        )
    })
}

fn ispctl(d: &Daemon, tls: &[&str], args: &[&str]) -> Output {
    let mut all = tls.to_vec();
    all.extend_from_slice(args);
    d.ispctl(&all)
}

#[test]
fn the_admin_api_answers_over_tls_and_checks_both_ends() {
    let pki = TempDir::new("tls-pki");
    let dir = &pki.0;
    let ca_pem = ca(dir, "ca");
    let other_ca = ca(dir, "other-ca");
    let (cert, key) = leaf(dir, "ca", "server", "serverAuth");
    let (client, client_key) = leaf(dir, "ca", "client", "clientAuth");
    let (stranger, stranger_key) = leaf(dir, "other-ca", "stranger", "clientAuth");

    let d = tls_daemon("tls", &cert, &key, "");
    assert_eq!(d.ports["admin_scheme"], "https", "{}", d.ports);
    // ispctl finds the address and the scheme in ports.json; it trusts only the CA it is given.
    let ok = ispctl(
        &d,
        &["--ca", path(&ca_pem)],
        &["--json", "system", "status"],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("\"database\""), "{}", stdout(&ok));
    let wrong = ispctl(&d, &["--ca", path(&other_ca)], &["system", "status"]);
    assert!(
        !wrong.status.success(),
        "a server certificate of another CA is refused"
    );
    assert!(
        stderr(&wrong).contains("invalid peer certificate"),
        "{}",
        stderr(&wrong)
    );
    let no_ca = ispctl(&d, &[], &["system", "status"]);
    assert!(!no_ca.status.success());
    assert!(stderr(&no_ca).contains("--ca"), "{}", stderr(&no_ca));
    // Plain text to the TLS port gets nowhere.
    let plain = ispctl(
        &d,
        &[
            "--server",
            &format!("http://{}", d.ports["admin"].as_str().unwrap()),
        ],
        &["system", "status"],
    );
    assert!(!plain.status.success());
    drop(d);

    // Client certificates required: the CA's client gets in, nobody else does.
    let d = tls_daemon(
        "tls-mutual",
        &cert,
        &key,
        &format!("tls_client_ca = {:?}\n", path(&ca_pem)),
    );
    let with_cert = ispctl(
        &d,
        &[
            "--ca",
            path(&ca_pem),
            "--cert",
            path(&client),
            "--key",
            path(&client_key),
        ],
        &["--json", "system", "status"],
    );
    assert!(with_cert.status.success(), "{}", stderr(&with_cert));
    let without = ispctl(&d, &["--ca", path(&ca_pem)], &["system", "status"]);
    assert!(!without.status.success(), "no client certificate: refused");
    assert!(stderr(&without).contains("--cert"), "{}", stderr(&without));
    let of_another_ca = ispctl(
        &d,
        &[
            "--ca",
            path(&ca_pem),
            "--cert",
            path(&stranger),
            "--key",
            path(&stranger_key),
        ],
        &["system", "status"],
    );
    assert!(
        !of_another_ca.status.success(),
        "a client certificate of another CA: refused"
    );
}

#[test]
fn a_renewed_certificate_is_served_after_sighup() {
    let pki = TempDir::new("tls-renew-pki");
    let dir = &pki.0;
    let first_ca = ca(dir, "first-ca");
    let next_ca = ca(dir, "next-ca");
    let (cert, key) = leaf(dir, "first-ca", "server", "serverAuth");
    let d = tls_daemon("tls-renew", &cert, &key, "");
    let status = |ca: &Path| ispctl(&d, &["--ca", path(ca)], &["system", "status"]);
    assert!(status(&first_ca).status.success());
    assert!(!status(&next_ca).status.success());

    // The renewal lands in place (as certbot's deploy hook would copy it), then a reload.
    let (renewed, renewed_key) = leaf(dir, "next-ca", "renewed", "serverAuth");
    std::fs::copy(&renewed, &cert).unwrap();
    std::fs::copy(&renewed_key, &key).unwrap();
    d.signal("HUP");
    d.wait_for_log("admin TLS certificate re-read");
    let after = status(&next_ca);
    assert!(after.status.success(), "{}", stderr(&after));
    assert!(
        !status(&first_ca).status.success(),
        "the old certificate is gone"
    );

    // A broken file at the next reload leaves the renewed certificate serving.
    std::fs::write(&key, "not a key").unwrap();
    d.signal("HUP");
    d.wait_for_log("admin TLS files not reloaded");
    assert!(status(&next_ca).status.success());
}

#[test]
fn a_listener_beyond_loopback_needs_tls() {
    let d = Daemon::configure_with(
        "tls-refused",
        "[admin]\nlisten = \"0.0.0.0:0\"\n[radius]\nauth_listen = [\"127.0.0.1:0\"]\nacct_listen = [\"127.0.0.1:0\"]\n",
    );
    let check = Command::new(crate::daemon::ISPD)
        .arg("check-config")
        .arg(&d.config_path)
        .output()
        .unwrap();
    assert!(!check.status.success());
    assert!(
        stderr(&check).contains("admin.tls_cert"),
        "says what to set: {}",
        stderr(&check)
    );
    let refused = d.start_refused();
    assert!(!refused.status.success(), "ispd must not start");
    assert!(
        stderr(&refused).contains("not a loopback address"),
        "{}",
        stderr(&refused)
    );
}
