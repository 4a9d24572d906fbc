//! `ispctl invoice-group …`: the provider's companies. Each client belongs to one; its
//! documents carry the group's supplier details and bank account and are numbered in the
//! group's own series.
//!
//! `show` prints every field, empty ones too, because this is the block printed on every
//! document: an operator checking it must see what is missing. Unset settings print as
//! `(default)` (the `[billing]` section, or the built-in number pattern) and are `null` in
//! JSON.

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use ispd_admin_proto::v1::{
    CreateInvoiceGroupRequest, DeleteInvoiceGroupRequest, GetInvoiceGroupRequest, InvoiceGroup,
    ListInvoiceGroupsRequest, TaxableDateRule, UpdateInvoiceGroupRequest,
};

use crate::args::{ProtoEnum, assign, ensure_changed, enum_name};
use crate::connect::Api;
use crate::output::{Out, Record, Table};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List the invoice groups.
    List,
    /// Print every field of one group.
    Show {
        /// Group code.
        code: String,
    },
    /// Create a group.
    Add(Box<AddArgs>),
    /// Change the given fields of a group and leave the rest untouched.
    Set(Box<SetArgs>),
    /// Delete a group (refused while a client or an issued document uses it).
    Delete {
        /// Group code.
        code: String,
    },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// Code clients refer to (`client --invoice-group`): lowercase letters, digits, '_', '-'.
    code: String,
    /// Company name printed as the supplier.
    #[arg(long)]
    name: String,
    #[command(flatten)]
    fields: Fields,
}

#[derive(Args, Debug)]
pub struct SetArgs {
    /// Code of the group to change.
    code: String,
    /// Company name printed as the supplier.
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    fields: Fields,
    /// Use `[billing] default_due_days` again.
    #[arg(long, conflicts_with = "due_days")]
    clear_due_days: bool,
}

/// Optional fields shared by `add` and `set`. Text flags take "" to empty a field; for the
/// currency and the number formats "" means "the default" again.
#[derive(Args, Debug)]
struct Fields {
    #[arg(long, help_heading = "Address")]
    street: Option<String>,
    #[arg(long, help_heading = "Address")]
    postcode: Option<String>,
    #[arg(long, help_heading = "Address")]
    city: Option<String>,
    #[arg(long, help_heading = "Address")]
    country: Option<String>,
    /// Company ID (IČO).
    #[arg(long, help_heading = "Company")]
    company_id: Option<String>,
    /// VAT ID (DIČ).
    #[arg(long, help_heading = "Company")]
    vat_id: Option<String>,
    /// Domestic account number as printed, e.g. 123456789/0800.
    #[arg(long, value_name = "NUMBER", help_heading = "Company")]
    bank_account: Option<String>,
    /// IBAN (spaces allowed; the check digits are verified).
    #[arg(long, help_heading = "Company")]
    iban: Option<String>,
    /// BIC (SWIFT), 8 or 11 characters.
    #[arg(long, help_heading = "Company")]
    bic: Option<String>,
    #[arg(long, help_heading = "Company")]
    email: Option<String>,
    #[arg(long, help_heading = "Company")]
    phone: Option<String>,
    /// ISO 4217 currency of the group's documents [default: [billing] currency].
    #[arg(long, value_name = "CODE", help_heading = "Invoicing")]
    currency: Option<String>,
    /// Days until an invoice is due [default: [billing] default_due_days]; a client's own
    /// due days win.
    #[arg(long, value_name = "DAYS", help_heading = "Invoicing")]
    due_days: Option<u32>,
    /// Invoice numbers: {year}, {yy}, {seq}, {seq:0N} and text [default: {year}{seq:05}].
    #[arg(long, value_name = "PATTERN", help_heading = "Numbering")]
    invoice_format: Option<String>,
    /// Credit note numbers [default: CN{year}{seq:05}].
    #[arg(long, value_name = "PATTERN", help_heading = "Numbering")]
    credit_note_format: Option<String>,
    /// Pro-forma numbers [default: PF{year}{seq:05}].
    #[arg(long, value_name = "PATTERN", help_heading = "Numbering")]
    proforma_format: Option<String>,
    /// Debit note numbers [default: DN{year}{seq:05}].
    #[arg(long, value_name = "PATTERN", help_heading = "Numbering")]
    debit_note_format: Option<String>,
    /// Date of taxable supply printed on invoices [server default: issue-date].
    #[arg(long, value_name = "RULE", help_heading = "Invoicing")]
    taxable_date: Option<TaxableDateArg>,
    /// Days before the issue date, 0-31, for --taxable-date days-before-issue (implied when
    /// only this flag is given).
    #[arg(long, value_name = "N", help_heading = "Invoicing")]
    taxable_days: Option<u32>,
}

/// Which date invoices state as the date of taxable supply (DUZP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TaxableDateArg {
    /// The issue date.
    #[value(alias = "issue_date")]
    IssueDate,
    /// The last day of the period invoiced.
    #[value(alias = "end_of_period")]
    EndOfPeriod,
    /// --taxable-days before the issue date (Mango dates it 14 days back).
    #[value(alias = "days_before_issue")]
    DaysBeforeIssue,
}

impl ProtoEnum for TaxableDateArg {
    fn to_proto(self) -> i32 {
        (match self {
            Self::IssueDate => TaxableDateRule::IssueDate,
            Self::EndOfPeriod => TaxableDateRule::EndOfPeriod,
            Self::DaysBeforeIssue => TaxableDateRule::DaysBeforeIssue,
        }) as i32
    }
}

fn apply(g: &mut InvoiceGroup, f: &Fields) -> Result<()> {
    for (dst, flag) in [
        (&mut g.street, &f.street),
        (&mut g.postcode, &f.postcode),
        (&mut g.city, &f.city),
        (&mut g.country, &f.country),
        (&mut g.company_id, &f.company_id),
        (&mut g.vat_id, &f.vat_id),
        (&mut g.bank_account, &f.bank_account),
        (&mut g.iban, &f.iban),
        (&mut g.bic, &f.bic),
        (&mut g.email, &f.email),
        (&mut g.phone, &f.phone),
        (&mut g.currency, &f.currency),
        (&mut g.invoice_number_format, &f.invoice_format),
        (&mut g.credit_note_number_format, &f.credit_note_format),
        (&mut g.proforma_number_format, &f.proforma_format),
        (&mut g.debit_note_number_format, &f.debit_note_format),
    ] {
        assign(dst, flag);
    }
    if f.due_days.is_some() {
        g.due_days = f.due_days;
    }
    let days_rule = TaxableDateRule::DaysBeforeIssue as i32;
    match (f.taxable_date, f.taxable_days) {
        (None, None) => {}
        (None | Some(TaxableDateArg::DaysBeforeIssue), Some(days)) => {
            g.taxable_date_rule = days_rule;
            g.taxable_days_before = days;
        }
        (Some(TaxableDateArg::DaysBeforeIssue), None) if g.taxable_date_rule != days_rule => {
            bail!("--taxable-date days-before-issue needs --taxable-days N (e.g. 14)");
        }
        (Some(TaxableDateArg::DaysBeforeIssue), None) => {}
        (Some(_), Some(_)) => {
            bail!("--taxable-days goes only with --taxable-date days-before-issue");
        }
        (Some(rule), None) => {
            g.taxable_date_rule = rule.to_proto();
            g.taxable_days_before = 0;
        }
    }
    Ok(())
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.invoice_groups().await?;
    match cmd {
        Cmd::List => {
            let groups = svc
                .list_invoice_groups(ListInvoiceGroupsRequest {})
                .await?
                .into_inner()
                .invoice_groups;
            out.list(&groups, "", record, table)
        }
        Cmd::Show { code } => {
            let request = GetInvoiceGroupRequest { code };
            out.reply(svc.get_invoice_group(request).await?, record)
        }
        Cmd::Add(a) => {
            let mut group = InvoiceGroup {
                code: a.code,
                name: a.name,
                ..InvoiceGroup::default()
            };
            apply(&mut group, &a.fields)?;
            let request = CreateInvoiceGroupRequest {
                invoice_group: Some(group),
            };
            out.reply(svc.create_invoice_group(request).await?, record)
        }
        Cmd::Set(s) => {
            let read = svc
                .get_invoice_group(GetInvoiceGroupRequest {
                    code: s.code.clone(),
                })
                .await?
                .into_inner();
            let mut group = read.clone();
            assign(&mut group.name, &s.name);
            if s.clear_due_days {
                group.due_days = None;
            }
            apply(&mut group, &s.fields)?;
            ensure_changed(group != read, "invoice-group set")?;
            let request = UpdateInvoiceGroupRequest {
                invoice_group: Some(group),
            };
            out.reply(svc.update_invoice_group(request).await?, record)
        }
        Cmd::Delete { code } => {
            svc.delete_invoice_group(DeleteInvoiceGroupRequest { code: code.clone() })
                .await?;
            out.deleted("invoice group", &code)
        }
    }
}

/// `None` for the wire's "" = default.
fn set(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// Every field, in proto order; unset settings are `null` (JSON) / `(default)` (show).
fn record(g: &InvoiceGroup) -> Record {
    Record::new()
        .every("code", Some(g.code.as_str()))
        .every("name", Some(g.name.as_str()))
        .every("street", Some(g.street.as_str()))
        .every("postcode", Some(g.postcode.as_str()))
        .every("city", Some(g.city.as_str()))
        .every("country", Some(g.country.as_str()))
        .every("company_id", Some(g.company_id.as_str()))
        .every("vat_id", Some(g.vat_id.as_str()))
        .every("bank_account", Some(g.bank_account.as_str()))
        .every("iban", Some(g.iban.as_str()))
        .every("bic", Some(g.bic.as_str()))
        .every("email", Some(g.email.as_str()))
        .every("phone", Some(g.phone.as_str()))
        .every("currency", set(&g.currency))
        .every("due_days", g.due_days)
        .every("invoice_number_format", set(&g.invoice_number_format))
        .every(
            "credit_note_number_format",
            set(&g.credit_note_number_format),
        )
        .every("proforma_number_format", set(&g.proforma_number_format))
        .every("debit_note_number_format", set(&g.debit_note_number_format))
        .name(
            "taxable_date_rule",
            enum_name::<TaxableDateArg>(g.taxable_date_rule),
        )
        .every("taxable_days_before", Some(g.taxable_days_before))
        .num("version", g.version)
}

fn table(groups: &[InvoiceGroup]) -> Table {
    Table::of(
        [
            "CODE",
            "NAME",
            "COMPANY_ID",
            "VAT_ID",
            "IBAN",
            "CURRENCY",
            "DUE_DAYS",
            "TAXABLE_DATE",
        ],
        groups.iter().map(|g| {
            let taxable = if g.taxable_date_rule == TaxableDateRule::DaysBeforeIssue as i32 {
                format!("{} days before issue", g.taxable_days_before)
            } else {
                enum_name::<TaxableDateArg>(g.taxable_date_rule)
            };
            [
                g.code.clone(),
                g.name.clone(),
                g.company_id.clone(),
                g.vat_id.clone(),
                g.iban.clone(),
                set(&g.currency).unwrap_or("default").to_owned(),
                g.due_days
                    .map_or_else(|| "default".to_owned(), |d| d.to_string()),
                taxable,
            ]
        }),
    )
}
