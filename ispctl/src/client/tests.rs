use super::*;
use clap::Parser;

#[derive(Parser)]
struct Probe {
    #[command(subcommand)]
    cmd: Cmd,
}

fn edit(argv: &[&str], start: &Client) -> Client {
    let argv = ["probe", "edit", "1001"].iter().chain(argv);
    let Cmd::Edit(e) = Probe::try_parse_from(argv).expect("parses").cmd else {
        panic!("not edit");
    };
    let mut c = start.clone();
    apply(&mut c, &e.fields, &e.clear);
    c
}

#[test]
fn edit_changes_only_what_is_named() {
    let start = Client {
        name: "Old".into(),
        email: "a@b.cz".into(),
        groups: vec!["vip".into()],
        ..Client::default()
    };
    assert_eq!(edit(&[], &start), start);
    let c = edit(&["--name", "New", "--group", "wifi", "--proforma"], &start);
    assert_eq!(c.name, "New");
    assert_eq!(c.email, "a@b.cz");
    assert_eq!(c.groups, ["vip", "wifi"]);
    assert!(c.invoicing.as_ref().is_some_and(|i| i.proforma));
    assert!(c.address.is_none());
    let c = edit(
        &["--clear-group", "--group", "x", "--proforma=false"],
        &start,
    );
    assert_eq!(c.groups, ["x"]);
    assert!(c.invoicing.is_none());
    let c = edit(
        &["--email", "", "--no-email-invoices", "--gps-lat", "-12.5"],
        &start,
    );
    assert_eq!(c.email, "");
    assert_eq!(c.invoicing.and_then(|i| i.send_by_email), Some(false));
    assert_eq!(c.address.map(|a| a.gps_lat), Some("-12.5".to_owned()));
}

#[test]
fn add_flags_parse() {
    let argv = [
        "probe",
        "add",
        "--name",
        "ACME",
        "--kind",
        "corporate",
        "--bank-account",
        ",CZ6508000000192000145399,GIBACZPX",
        "--contact",
        "Jan Novák,technik,jan@acme.cz",
        "--opening-balance",
        "-150,50",
    ];
    let Cmd::Add(a) = Probe::try_parse_from(argv).expect("parses").cmd else {
        panic!("not add");
    };
    let mut c = Client::default();
    apply(&mut c, &a.fields, &Clear::default());
    assert_eq!(c.kind, ClientKind::Corporate as i32);
    assert_eq!(c.bank_accounts[0].iban, "CZ6508000000192000145399");
    assert_eq!(c.bank_accounts[0].bic, "GIBACZPX");
    assert_eq!(c.contact_persons[0].email, "jan@acme.cz");
    assert_eq!(
        c.invoicing.map(|i| i.opening_balance),
        Some("-150.50".to_owned())
    );
    assert!(Probe::try_parse_from(["probe", "add", "--birth-date", "1.1.1990"]).is_err());
}
