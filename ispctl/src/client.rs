//! `ispctl client …`: the client card.
//!
//! `add` and `edit` share one set of field flags. `edit` reads the client, changes only the
//! fields named on the command line and writes the whole message::record back with the version it
//! read, so a concurrent change is refused by the server (ABORTED) instead of overwritten.
//! Repeatable flags (`--group`, `--vs`, `--bank-account`, `--contact`) add to the existing list
//! in `edit`; the `--clear-*` / `--remove-*` flags take entries away.

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use ispd_admin_proto::v1::client_service_client::ClientServiceClient;
use ispd_admin_proto::v1::{
    Address, AdjustBalanceRequest, BankAccount, Client, ClientKind, ContactPerson,
    CreateClientRequest, DeleteClientRequest, EraseClientDataRequest, GetClientRequest, Invoicing,
    ListClientsRequest, NextClientNumberRequest, SearchClientsRequest, SearchHit,
    UpdateClientRequest,
};
use serde_json::json;

use crate::args::{self, ProtoEnum, assign, ensure_changed, enum_name};
use crate::connect::{Api, Svc};
use crate::message;
use crate::output::{Out, Table, warn_all};
use crate::paging::{self, PageArgs};

type Clients = ClientServiceClient<Svc>;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Create a client and print the stored message::record, including the number the server assigned
    /// when --number was left out.
    Add(Box<AddArgs>),
    /// Print one client.
    Show {
        /// Client number.
        number: String,
    },
    /// List clients, optionally filtered (filters combine with AND).
    List(ListArgs),
    /// Change the given fields of a client and leave the rest untouched.
    Edit(Box<EditArgs>),
    /// Delete a client for good (refused while it has subscriptions or books).
    Delete {
        /// Client number.
        number: String,
        /// Confirm the deletion: it cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// Find clients the way a support desk does: by number, name fragment, variable symbol,
    /// e-mail, phone, login username, IP address or MAC.
    Search {
        query: String,
        /// At most N hits [server default: 20].
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
    /// Print the number the server would give the next client created without --number.
    NextNumber,
    /// Print a client's balance: owed, credit, and whether suspended for debt.
    Balance {
        /// Client number.
        number: String,
    },
    /// Print a client's account in date order (opening balance, invoices, pro-formas, debit
    /// and credit notes, payments, refunds) with the running balance.
    Statement {
        /// Client number.
        number: String,
    },
    /// Erase a client's personal data on request (GDPR), by category. Kept as the law
    /// requires: the number, name, company and VAT IDs, invoicing settings and every
    /// document and payment. The same fields are blanked in the client's audit history.
    /// Admin role.
    Erase {
        /// Client number.
        number: String,
        /// What to erase (repeatable): contact (e-mails, phones, contact persons), identity
        /// (ID card, birth date), address (postal and installation), bank (accounts), notes.
        #[arg(long = "category", value_name = "CATEGORY", required = true)]
        categories: Vec<String>,
        /// Confirm the erasure: it cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// Adjust a client's balance now: a positive amount credits the client (a credit note on
    /// no invoice, spent on open documents at once), a negative one debits (a debit note due
    /// today). VAT 0; on the statement like any document.
    Adjust {
        /// Client number.
        number: String,
        /// Amount, e.g. 100.00 to credit or -100.00 to debit.
        #[arg(long, value_parser = args::required_money, allow_hyphen_values = true, value_name = "AMOUNT")]
        amount: String,
        /// Why: printed on the document.
        #[arg(long)]
        reason: String,
        /// The document's date, YYYY-MM-DD [default: today on the server].
        #[arg(long, value_parser = args::date, value_name = "DATE", default_value = "")]
        date: String,
    },
}

/// Client type: a person, a company, or a person in business on their own account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Private,
    Corporate,
    SoleTrader,
}

impl ProtoEnum for KindArg {
    fn to_proto(self) -> i32 {
        (match self {
            Self::Private => ClientKind::Private,
            Self::Corporate => ClientKind::Corporate,
            Self::SoleTrader => ClientKind::SoleTrader,
        }) as i32
    }
}

/// How the operator sees a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CharacteristicArg {
    Ordinary,
    Good,
    Conflict,
}

impl CharacteristicArg {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ordinary => "ordinary",
            Self::Good => "good",
            Self::Conflict => "conflict",
        }
    }
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// Client number; also the default variable symbol and portal login [default: the next
    /// free number].
    #[arg(long)]
    number: Option<String>,
    /// The IP address the client registered from (read-only afterwards) [default: the
    /// address the daemon sees this ispctl at].
    #[arg(long, value_name = "IP")]
    registration_ip: Option<String>,
    #[command(flatten)]
    fields: Fields,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// Number of the client to change.
    number: String,
    #[command(flatten)]
    fields: Fields,
    #[command(flatten)]
    clear: Clear,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only clients whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    name_contains: Option<String>,
    /// Only clients in this group (code).
    #[arg(long)]
    group: Option<String>,
    /// Only clients with this status (code).
    #[arg(long)]
    status: Option<String>,
    /// Only clients whose billing address is in this city.
    #[arg(long)]
    city: Option<String>,
    /// Only clients whose signed contract came back (`returned`) or did not (`not-returned`).
    #[arg(long, value_name = "RETURNED")]
    contract: Option<ContractArg>,
    /// Only clients with an active subscription on this tariff (name).
    #[arg(long, value_name = "NAME")]
    tariff: Option<String>,
    /// Only clients registered on or after this day, YYYY-MM-DD.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    registered_from: Option<String>,
    /// Only clients registered on or before this day, YYYY-MM-DD.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    registered_until: Option<String>,
    /// Only clients owing something (an open document).
    #[arg(long)]
    owing: bool,
    /// Only clients written to in this language (a BCP 47 tag: cs, en, pt-BR).
    #[arg(long, value_name = "TAG")]
    language: Option<String>,
    /// Only clients of this characteristic.
    #[arg(long)]
    characteristic: Option<CharacteristicArg>,
    #[command(flatten)]
    page: PageArgs,
}

/// Whether the signed contract came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ContractArg {
    Returned,
    NotReturned,
}

/// Every field of the client card. All optional: `add` leaves the rest to server defaults,
/// `edit` leaves the rest as stored. An empty value (`--email ""`) clears a text field.
#[derive(Args, Debug)]
struct Fields {
    /// Name (person) or company name. Required on add.
    #[arg(long, help_heading = "Identity")]
    name: Option<String>,
    /// Private person or company [server default: private].
    #[arg(long, help_heading = "Identity")]
    kind: Option<KindArg>,
    /// Second name line (companies).
    #[arg(long, help_heading = "Identity")]
    name2: Option<String>,
    /// Person who represents the company.
    #[arg(long, help_heading = "Identity")]
    contact_person: Option<String>,
    /// ID card or passport number (a duplicate is only a warning).
    #[arg(long, help_heading = "Identity")]
    id_number: Option<String>,
    /// Date of birth, YYYY-MM-DD.
    #[arg(long, value_parser = args::date, value_name = "DATE", help_heading = "Identity")]
    birth_date: Option<String>,
    /// Company ID, IČO (a duplicate is only a warning).
    #[arg(long, help_heading = "Identity")]
    company_id: Option<String>,
    /// VAT ID, DIČ.
    #[arg(long, help_heading = "Identity")]
    vat_id: Option<String>,
    /// Client status (code from the status code list) [server default: connected].
    #[arg(long, help_heading = "Identity")]
    status: Option<String>,
    /// Client group (code from the group code list); repeatable. On edit: adds.
    #[arg(long = "group", value_name = "CODE", help_heading = "Identity")]
    groups: Vec<String>,
    /// Portal login [server default: the client number].
    #[arg(long, help_heading = "Identity")]
    portal_login: Option<String>,

    /// The language the client is written to in, a BCP 47 tag (cs, en, pt-BR).
    #[arg(long, value_name = "TAG", help_heading = "Relationship")]
    language: Option<String>,
    /// How the operator sees the client [server default: ordinary].
    #[arg(long, help_heading = "Relationship")]
    characteristic: Option<CharacteristicArg>,
    /// Number of the client who referred this one.
    #[arg(long, value_name = "NUMBER", help_heading = "Relationship")]
    referrer: Option<String>,
    /// Where the client heard of the operator.
    #[arg(long, value_name = "TEXT", help_heading = "Relationship")]
    referral_source: Option<String>,
    /// The partner programme the client came through.
    #[arg(long, value_name = "TEXT", help_heading = "Relationship")]
    partner_programme: Option<String>,

    /// Billing address: street and house number.
    #[arg(long, help_heading = "Address")]
    street: Option<String>,
    /// Billing address: postcode.
    #[arg(long, help_heading = "Address")]
    postcode: Option<String>,
    /// Billing address: city.
    #[arg(long, help_heading = "Address")]
    city: Option<String>,
    /// Billing address: country.
    #[arg(long, help_heading = "Address")]
    country: Option<String>,
    /// GPS latitude in decimal degrees, e.g. 50.0755.
    #[arg(long, value_parser = args::decimal, allow_hyphen_values = true, value_name = "DEG", help_heading = "Address")]
    gps_lat: Option<String>,
    /// GPS longitude in decimal degrees, e.g. 14.4378.
    #[arg(long, value_parser = args::decimal, allow_hyphen_values = true, value_name = "DEG", help_heading = "Address")]
    gps_lon: Option<String>,
    /// Floor.
    #[arg(long, help_heading = "Address")]
    floor: Option<String>,
    /// Flat (apartment) number.
    #[arg(long, help_heading = "Address")]
    flat: Option<String>,
    /// Installation address (when it differs from billing): street.
    #[arg(long, help_heading = "Address")]
    install_street: Option<String>,
    /// Installation address: postcode.
    #[arg(long, help_heading = "Address")]
    install_postcode: Option<String>,
    /// Installation address: city.
    #[arg(long, help_heading = "Address")]
    install_city: Option<String>,
    /// Installation address: country.
    #[arg(long, help_heading = "Address")]
    install_country: Option<String>,

    /// E-mail.
    #[arg(long, help_heading = "Contact")]
    email: Option<String>,
    /// E-mail for invoices [default: --email].
    #[arg(long, help_heading = "Contact")]
    invoice_email: Option<String>,
    /// Technical contact e-mail.
    #[arg(long, help_heading = "Contact")]
    technical_email: Option<String>,
    /// Business contact e-mail.
    #[arg(long, help_heading = "Contact")]
    business_email: Option<String>,
    /// Phone.
    #[arg(long, help_heading = "Contact")]
    phone: Option<String>,
    /// Mobile phone.
    #[arg(long, help_heading = "Contact")]
    mobile: Option<String>,
    /// Fax.
    #[arg(long, help_heading = "Contact")]
    fax: Option<String>,
    /// Website.
    #[arg(long, help_heading = "Contact")]
    website: Option<String>,
    /// Contact person: NAME[,ROLE[,EMAIL[,PHONE[,NOTE]]]]; repeatable. On edit: adds.
    #[arg(long = "contact", value_parser = parse_contact, value_name = "NAME[,ROLE[,EMAIL[,PHONE[,NOTE]]]]", help_heading = "Contact")]
    contacts: Vec<ContactPerson>,
    /// Exclude from bulk e-mail.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL", help_heading = "Contact")]
    no_bulk_email: Option<bool>,

    /// Bank account: NUMBER[,IBAN[,BIC]] (NUMBER may be empty when IBAN is given);
    /// repeatable. On edit: adds.
    #[arg(long = "bank-account", value_parser = parse_bank_account, value_name = "NUMBER[,IBAN[,BIC]]", help_heading = "Invoicing")]
    bank_accounts: Vec<BankAccount>,
    /// Invoice group (code) [server default: default].
    #[arg(long, value_name = "CODE", help_heading = "Invoicing")]
    invoice_group: Option<String>,
    /// Payment type (code) [server default: bank_transfer].
    #[arg(long, value_name = "CODE", help_heading = "Invoicing")]
    payment_type: Option<String>,
    /// Day of month the client's billing periods start, 1-28.
    #[arg(long, value_name = "DAY", help_heading = "Invoicing")]
    billing_day: Option<u32>,
    /// Days until an invoice is due [default: the global setting].
    #[arg(long, value_name = "DAYS", help_heading = "Invoicing")]
    due_days: Option<u32>,
    /// Send invoices by post.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL", help_heading = "Invoicing")]
    send_by_post: Option<bool>,
    /// Do not send invoices by e-mail (sent by default).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL", help_heading = "Invoicing")]
    no_email_invoices: Option<bool>,
    /// Do not send payment reminders automatically.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL", help_heading = "Invoicing")]
    no_auto_reminders: Option<bool>,
    /// Issue pro-forma invoices.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL", help_heading = "Invoicing")]
    proforma: Option<bool>,
    /// Never suspend the service for debt.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL", help_heading = "Invoicing")]
    never_suspend: Option<bool>,
    /// Suspend only for invoices overdue more than N days, 0-365 [default: the [dunning]
    /// suspend_days_after_due setting].
    #[arg(long, value_name = "N", help_heading = "Invoicing")]
    suspend_after_days: Option<u32>,
    /// Extra variable symbol for matching payments (at most 3); repeatable. On edit: adds.
    #[arg(long = "vs", value_name = "VS", help_heading = "Invoicing")]
    vs: Vec<String>,
    /// Balance carried over from another system: negative = debt, positive = credit.
    #[arg(long, value_parser = args::money, allow_hyphen_values = true, value_name = "AMOUNT", help_heading = "Invoicing")]
    opening_balance: Option<String>,
    /// SIPO number (required with payment type sipo).
    #[arg(long, help_heading = "Invoicing")]
    sipo_number: Option<String>,

    /// Date the signed contract came back, YYYY-MM-DD ("" = not returned).
    #[arg(long, value_parser = args::date, value_name = "DATE", help_heading = "Notes")]
    contract_returned_on: Option<String>,
    /// Highlight the client in lists, giving the reason.
    #[arg(long, value_name = "REASON", help_heading = "Notes")]
    highlight: Option<String>,
    /// Operator note (never shown to the client).
    #[arg(long, help_heading = "Notes")]
    note: Option<String>,
    /// Internal note 1.
    #[arg(long, help_heading = "Notes")]
    internal_note_1: Option<String>,
    /// Internal note 2.
    #[arg(long, help_heading = "Notes")]
    internal_note_2: Option<String>,
}

/// Ways to take something away, for `edit` only; applied before the field flags, so e.g.
/// `--clear-group --group vip` replaces the groups with just "vip".
#[derive(Args, Debug, Default)]
struct Clear {
    /// Remove all groups.
    #[arg(long, alias = "clear-groups", help_heading = "Clearing")]
    clear_group: bool,
    /// Remove this group; repeatable.
    #[arg(long, value_name = "CODE", help_heading = "Clearing")]
    remove_group: Vec<String>,
    /// Remove all extra variable symbols.
    #[arg(long, help_heading = "Clearing")]
    clear_vs: bool,
    /// Remove this variable symbol; repeatable.
    #[arg(long, value_name = "VS", help_heading = "Clearing")]
    remove_vs: Vec<String>,
    /// Remove the installation address (installation at the billing address).
    #[arg(long, help_heading = "Clearing")]
    clear_installation_address: bool,
    /// Remove the GPS coordinates.
    #[arg(long, help_heading = "Clearing")]
    clear_gps: bool,
    /// Remove all bank accounts.
    #[arg(long, help_heading = "Clearing")]
    clear_bank_accounts: bool,
    /// Remove all contact persons.
    #[arg(long, help_heading = "Clearing")]
    clear_contacts: bool,
    /// Stop highlighting the client.
    #[arg(long, help_heading = "Clearing")]
    clear_highlight: bool,
    /// Use the global default due days again.
    #[arg(long, help_heading = "Clearing")]
    clear_due_days: bool,
    /// Use the global suspend_days_after_due again.
    #[arg(long, help_heading = "Clearing")]
    clear_suspend_after_days: bool,
}

fn parse_bank_account(s: &str) -> Result<BankAccount, String> {
    let mut parts = s.splitn(3, ',').map(|p| p.trim().to_owned());
    let account = BankAccount {
        number: parts.next().unwrap_or_default(),
        iban: parts.next().unwrap_or_default(),
        bic: parts.next().unwrap_or_default(),
    };
    if account.number.is_empty() && account.iban.is_empty() {
        return Err("expected NUMBER[,IBAN[,BIC]] with a number or an IBAN".to_owned());
    }
    Ok(account)
}

fn parse_contact(s: &str) -> Result<ContactPerson, String> {
    let mut parts = s.splitn(5, ',').map(|p| p.trim().to_owned());
    let contact = ContactPerson {
        name: parts.next().unwrap_or_default(),
        role: parts.next().unwrap_or_default(),
        email: parts.next().unwrap_or_default(),
        phone: parts.next().unwrap_or_default(),
        note: parts.next().unwrap_or_default(),
    };
    if contact.name.is_empty() {
        return Err("expected NAME[,ROLE[,EMAIL[,PHONE[,NOTE]]]] with a name".to_owned());
    }
    Ok(contact)
}

/// Applies `clear` and then `f` to `c`. Sub-messages (address, invoicing) are only created
/// when something in them changes, so an `edit` that touches nothing leaves them as read.
fn apply(c: &mut Client, f: &Fields, clear: &Clear) {
    apply_identity(c, f, clear);
    apply_addresses(c, f, clear);
    apply_contact(c, f, clear);
    apply_invoicing(c, f, clear);
    apply_notes(c, f, clear);
    assign(&mut c.language, &f.language);
    if let Some(characteristic) = f.characteristic {
        characteristic.as_str().clone_into(&mut c.characteristic);
    }
    assign(&mut c.referrer, &f.referrer);
    assign(&mut c.referral_source, &f.referral_source);
    assign(&mut c.partner_programme, &f.partner_programme);
}

/// Name, kind, identifiers, status, groups, portal login.
fn apply_identity(c: &mut Client, f: &Fields, clear: &Clear) {
    assign(&mut c.name, &f.name);
    if let Some(kind) = f.kind {
        c.kind = kind.to_proto();
    }
    assign(&mut c.name2, &f.name2);
    assign(&mut c.contact_person, &f.contact_person);
    assign(&mut c.id_number, &f.id_number);
    assign(&mut c.birth_date, &f.birth_date);
    assign(&mut c.company_id, &f.company_id);
    assign(&mut c.vat_id, &f.vat_id);
    assign(&mut c.status, &f.status);
    if clear.clear_group {
        c.groups.clear();
    }
    c.groups.retain(|g| !clear.remove_group.contains(g));
    add_unique(&mut c.groups, &f.groups);
    assign(&mut c.portal_login, &f.portal_login);
}

/// The billing address (with GPS, floor, flat) and the installation address.
fn apply_addresses(c: &mut Client, f: &Fields, clear: &Clear) {
    let mut address = c.address.clone().unwrap_or_default();
    assign(&mut address.street, &f.street);
    assign(&mut address.postcode, &f.postcode);
    assign(&mut address.city, &f.city);
    assign(&mut address.country, &f.country);
    if clear.clear_gps {
        address.gps_lat.clear();
        address.gps_lon.clear();
    }
    assign(&mut address.gps_lat, &f.gps_lat);
    assign(&mut address.gps_lon, &f.gps_lon);
    if c.address.clone().unwrap_or_default() != address {
        c.address = Some(address);
    }
    assign(&mut c.floor, &f.floor);
    assign(&mut c.flat, &f.flat);

    if clear.clear_installation_address {
        c.installation_address = None;
    }
    let install = [
        &f.install_street,
        &f.install_postcode,
        &f.install_city,
        &f.install_country,
    ];
    if install.iter().any(|v| v.is_some()) {
        let a: &mut Address = c.installation_address.get_or_insert_default();
        assign(&mut a.street, &f.install_street);
        assign(&mut a.postcode, &f.install_postcode);
        assign(&mut a.city, &f.install_city);
        assign(&mut a.country, &f.install_country);
    }
}

/// E-mails, phones, contact persons, bank accounts.
fn apply_contact(c: &mut Client, f: &Fields, clear: &Clear) {
    assign(&mut c.email, &f.email);
    assign(&mut c.invoice_email, &f.invoice_email);
    assign(&mut c.technical_email, &f.technical_email);
    assign(&mut c.business_email, &f.business_email);
    assign(&mut c.phone, &f.phone);
    assign(&mut c.mobile, &f.mobile);
    assign(&mut c.fax, &f.fax);
    assign(&mut c.website, &f.website);
    if clear.clear_contacts {
        c.contact_persons.clear();
    }
    c.contact_persons.extend(f.contacts.iter().cloned());
    if let Some(b) = f.no_bulk_email {
        c.no_bulk_email = b;
    }

    if clear.clear_bank_accounts {
        c.bank_accounts.clear();
    }
    c.bank_accounts.extend(f.bank_accounts.iter().cloned());
}

/// The invoicing sub-message, set only when something in it changes.
fn apply_invoicing(c: &mut Client, f: &Fields, clear: &Clear) {
    let before = c.invoicing.clone().unwrap_or_default();
    let mut inv: Invoicing = before.clone();
    assign(&mut inv.invoice_group, &f.invoice_group);
    assign(&mut inv.payment_type, &f.payment_type);
    if let Some(day) = f.billing_day {
        inv.billing_day = day;
    }
    if clear.clear_due_days {
        inv.due_days = None;
    }
    if f.due_days.is_some() {
        inv.due_days = f.due_days;
    }
    if let Some(b) = f.send_by_post {
        inv.send_by_post = b;
    }
    if let Some(b) = f.no_email_invoices {
        inv.send_by_email = Some(!b);
    }
    if let Some(b) = f.no_auto_reminders {
        inv.no_auto_reminders = b;
    }
    if let Some(b) = f.proforma {
        inv.proforma = b;
    }
    if let Some(b) = f.never_suspend {
        inv.never_suspend = b;
    }
    if clear.clear_suspend_after_days {
        inv.suspend_after_days = None;
    }
    if f.suspend_after_days.is_some() {
        inv.suspend_after_days = f.suspend_after_days;
    }
    if clear.clear_vs {
        inv.variable_symbols.clear();
    }
    inv.variable_symbols
        .retain(|v| !clear.remove_vs.contains(v));
    add_unique(&mut inv.variable_symbols, &f.vs);
    assign(&mut inv.opening_balance, &f.opening_balance);
    assign(&mut inv.sipo_number, &f.sipo_number);
    if inv != before {
        c.invoicing = Some(inv);
    }
}

/// Contract, highlight and notes.
fn apply_notes(c: &mut Client, f: &Fields, clear: &Clear) {
    assign(&mut c.contract_returned_on, &f.contract_returned_on);
    if clear.clear_highlight {
        c.highlighted = false;
        c.highlight_reason.clear();
    }
    if let Some(reason) = &f.highlight {
        c.highlighted = true;
        c.highlight_reason.clone_from(reason);
    }
    assign(&mut c.note, &f.note);
    assign(&mut c.internal_note_1, &f.internal_note_1);
    assign(&mut c.internal_note_2, &f.internal_note_2);
}

fn add_unique(list: &mut Vec<String>, new: &[String]) {
    for item in new {
        if !list.contains(item) {
            list.push(item.clone());
        }
    }
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    match cmd {
        Cmd::Balance { number } => {
            crate::payment::balance(&mut api.payments().await?, number, out).await
        }
        Cmd::Statement { number } => {
            crate::payment::statement(&mut api.payments().await?, number, out).await
        }
        Cmd::Erase {
            number,
            categories,
            yes,
        } => {
            let request = EraseClientDataRequest {
                number,
                categories,
                confirm: yes,
            };
            out.reply(
                api.clients().await?.erase_client_data(request).await?,
                message::record,
            )
        }
        Cmd::Adjust {
            number,
            amount,
            reason,
            date,
        } => {
            let request = AdjustBalanceRequest {
                client_number: number,
                amount,
                reason,
                date,
            };
            let reply = api.billing().await?.adjust_balance(request).await?;
            out.reply(reply, crate::billing::record)
        }
        Cmd::Add(a) => add(&mut api.clients().await?, *a, out).await,
        Cmd::Show { number } => {
            let request = GetClientRequest { number };
            out.reply(
                api.clients().await?.get_client(request).await?,
                message::record,
            )
        }
        Cmd::List(l) => list(&mut api.clients().await?, &l, out).await,
        Cmd::Edit(e) => edit(&mut api.clients().await?, &e, out).await,
        Cmd::Delete { number, yes } => {
            let request = DeleteClientRequest {
                number: number.clone(),
                confirm: yes,
            };
            api.clients().await?.delete_client(request).await?;
            out.deleted("client", &number)
        }
        Cmd::Search { query, limit } => {
            let request = SearchClientsRequest {
                query,
                limit: limit.unwrap_or(0),
            };
            let resp = api.clients().await?.search_clients(request).await?;
            out.list(&resp.into_inner().hits, "", message::record, hit_table)
        }
        Cmd::NextNumber => {
            let request = NextClientNumberRequest {};
            let resp = api.clients().await?.next_client_number(request).await?;
            let number = resp.into_inner().number;
            out.value(&number, json!({ "number": number }))
        }
    }
}

async fn add(svc: &mut Clients, a: AddArgs, out: Out) -> Result<()> {
    let mut client = Client {
        number: a.number.unwrap_or_default(),
        registration_ip: a.registration_ip.unwrap_or_default(),
        ..Client::default()
    };
    apply(&mut client, &a.fields, &Clear::default());
    let request = CreateClientRequest {
        client: Some(client),
    };
    let resp = svc.create_client(request).await?.into_inner();
    print_response(out, resp.client.unwrap_or_default(), &resp.warnings)
}

async fn list(svc: &mut Clients, l: &ListArgs, out: Out) -> Result<()> {
    let page = paging::collect(&l.page, async |page| {
        let request = ListClientsRequest {
            page: Some(page),
            name_contains: l.name_contains.clone().unwrap_or_default(),
            group: l.group.clone().unwrap_or_default(),
            status: l.status.clone().unwrap_or_default(),
            city: l.city.clone().unwrap_or_default(),
            contract: match l.contract {
                None => String::new(),
                Some(ContractArg::Returned) => "returned".into(),
                Some(ContractArg::NotReturned) => "not_returned".into(),
            },
            tariff: l.tariff.clone().unwrap_or_default(),
            registered_from: l.registered_from.clone().unwrap_or_default(),
            registered_until: l.registered_until.clone().unwrap_or_default(),
            owing: l.owing,
            language: l.language.clone().unwrap_or_default(),
            characteristic: l
                .characteristic
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
        };
        let resp = svc.list_clients(request).await?.into_inner();
        Ok((resp.clients, resp.next_page_token))
    })
    .await?;
    out.pages(&page, message::record, table)
}

async fn edit(svc: &mut Clients, e: &EditArgs, out: Out) -> Result<()> {
    let request = GetClientRequest {
        number: e.number.clone(),
    };
    let read = svc.get_client(request).await?.into_inner();
    let mut client = read.clone();
    apply(&mut client, &e.fields, &e.clear);
    ensure_changed(client != read, "client edit")?;
    let request = UpdateClientRequest {
        client: Some(client),
    };
    let resp = svc.update_client(request).await?.into_inner();
    print_response(out, resp.client.unwrap_or_default(), &resp.warnings)
}

fn hit_table(hits: &[SearchHit]) -> Table {
    Table::of(
        ["NUMBER", "NAME", "CITY", "PHONE", "EMAIL", "MATCHED"],
        hits.iter().map(|hit| {
            let c = hit.client.clone().unwrap_or_default();
            let city = c.address.map(|a| a.city).unwrap_or_default();
            [
                c.number,
                c.name,
                city,
                c.phone,
                c.email,
                hit.matched.clone(),
            ]
        }),
    )
}

/// Output of `add` / `edit`: the message::record, with the server's warnings on stderr and, for
/// `--json`, also under "warnings".
fn print_response(out: Out, client: Client, warnings: &[String]) -> Result<()> {
    warn_all(warnings);
    let mut rec = message::record(&client);
    if out.json {
        rec = rec.strs("warnings", warnings);
    }
    out.record(&rec)
}

fn table(clients: &[Client]) -> Table {
    Table::of(
        [
            "NUMBER", "NAME", "KIND", "CITY", "STATUS", "GROUPS", "PHONE", "EMAIL",
        ],
        clients.iter().map(|c| {
            let city = c
                .address
                .as_ref()
                .map(|a| a.city.clone())
                .unwrap_or_default();
            let name = if c.highlighted {
                format!("{} (!)", c.name)
            } else {
                c.name.clone()
            };
            [
                c.number.clone(),
                name,
                enum_name::<KindArg>(c.kind),
                city,
                c.status.clone(),
                c.groups.join(","),
                c.phone.clone(),
                c.email.clone(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests;
