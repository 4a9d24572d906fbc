//! Invoice groups: the provider's companies, each with its supplier details and its number
//! patterns (a series is its pattern, `number_series`, shared by the groups on one pattern and
//! advanced by the issuing transaction in invoice.rs).

use ispd_billing::invoice::TaxableDateRule;
use ispd_billing::invoice_group::{InvoiceGroup, NumberFormats};
use sqlx::{AnyConnection, AssertSqlSafe};

use super::{Actor, Audit, Store, StoreError, StoreResult, corrupt, unique_as_conflict};

#[derive(sqlx::FromRow)]
struct GroupRow {
    code: String,
    name: String,
    street: String,
    postcode: String,
    city: String,
    country: String,
    company_id: String,
    vat_id: String,
    bank_account: String,
    iban: String,
    bic: String,
    email: String,
    phone: String,
    currency: Option<String>,
    due_days: Option<i64>,
    invoice_number_format: Option<String>,
    credit_note_number_format: Option<String>,
    proforma_number_format: Option<String>,
    debit_note_number_format: Option<String>,
    taxable_date_rule: String,
    taxable_days_before: i64,
    version: i64,
}

/// Every column, key first; the INSERT binds them in this order.
const COLUMNS: &str = "code, name, street, postcode, city, country, company_id, vat_id,
    bank_account, iban, bic, email, phone, currency, due_days, invoice_number_format,
    credit_note_number_format, proforma_number_format, debit_note_number_format,
    taxable_date_rule, taxable_days_before, version";

/// The rule as stored: its name, and the days for `days_before_issue` (0 otherwise).
fn rule_columns(rule: TaxableDateRule) -> (&'static str, i64) {
    match rule {
        TaxableDateRule::IssueDate => ("issue_date", 0),
        TaxableDateRule::EndOfPeriod => ("end_of_period", 0),
        TaxableDateRule::DaysBeforeIssue(n) => ("days_before_issue", i64::from(n)),
    }
}

impl GroupRow {
    fn into_group(self) -> StoreResult<InvoiceGroup> {
        let bad = |what: &str| corrupt(format!("invoice group {}: {what}", self.code));
        let taxable_date_rule = match self.taxable_date_rule.as_str() {
            "issue_date" => TaxableDateRule::IssueDate,
            "end_of_period" => TaxableDateRule::EndOfPeriod,
            "days_before_issue" => TaxableDateRule::DaysBeforeIssue(
                u32::try_from(self.taxable_days_before).map_err(|_| bad("taxable_days_before"))?,
            ),
            _ => return Err(bad("taxable_date_rule")),
        };
        let due_days = self
            .due_days
            .map(|d| u32::try_from(d).map_err(|_| bad("due_days")))
            .transpose()?;
        Ok(InvoiceGroup {
            code: self.code,
            name: self.name,
            street: self.street,
            postcode: self.postcode,
            city: self.city,
            country: self.country,
            company_id: self.company_id,
            vat_id: self.vat_id,
            bank_account: self.bank_account,
            iban: self.iban,
            bic: self.bic,
            email: self.email,
            phone: self.phone,
            currency: self.currency,
            due_days,
            number_formats: NumberFormats {
                invoice: self.invoice_number_format,
                credit_note: self.credit_note_number_format,
                proforma: self.proforma_number_format,
                debit_note: self.debit_note_number_format,
            },
            taxable_date_rule,
            version: self.version,
        })
    }
}

type Q<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds every column but `code` and `version`, in [`COLUMNS`] order.
fn bind_fields<'q>(q: Q<'q>, g: &InvoiceGroup) -> Q<'q> {
    let (rule, days_before) = rule_columns(g.taxable_date_rule);
    let f = &g.number_formats;
    q.bind(g.name.clone())
        .bind(g.street.clone())
        .bind(g.postcode.clone())
        .bind(g.city.clone())
        .bind(g.country.clone())
        .bind(g.company_id.clone())
        .bind(g.vat_id.clone())
        .bind(g.bank_account.clone())
        .bind(g.iban.clone())
        .bind(g.bic.clone())
        .bind(g.email.clone())
        .bind(g.phone.clone())
        .bind(g.currency.clone())
        .bind(g.due_days.map(i64::from))
        .bind(f.invoice.clone())
        .bind(f.credit_note.clone())
        .bind(f.proforma.clone())
        .bind(f.debit_note.clone())
        .bind(rule)
        .bind(days_before)
}

fn not_found(code: &str) -> StoreError {
    StoreError::not_found("invoice group", code.to_owned())
}

impl Store {
    async fn invoice_group_by_code(
        conn: &mut AnyConnection,
        code: &str,
    ) -> StoreResult<Option<InvoiceGroup>> {
        sqlx::query_as::<_, GroupRow>(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM invoice_group WHERE code = $1"
        )))
        .bind(code.to_owned())
        .fetch_optional(conn)
        .await?
        .map(GroupRow::into_group)
        .transpose()
    }

    /// One invoice group: the supplier of its clients' documents.
    pub async fn invoice_group(&self, code: &str) -> StoreResult<InvoiceGroup> {
        let mut conn = self.pool.acquire().await?;
        Self::invoice_group_by_code(&mut conn, code)
            .await?
            .ok_or_else(|| not_found(code))
    }

    /// Every invoice group, by code. There are a handful per installation: no paging.
    pub async fn invoice_groups(&self) -> StoreResult<Vec<InvoiceGroup>> {
        sqlx::query_as::<_, GroupRow>(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM invoice_group ORDER BY code"
        )))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(GroupRow::into_group)
        .collect()
    }

    pub async fn create_invoice_group(
        &self,
        actor: &Actor,
        mut group: InvoiceGroup,
    ) -> StoreResult<InvoiceGroup> {
        group.normalize();
        group.version = 1;
        let mut tx = self.write_tx().await?;
        if Self::invoice_group_by_code(&mut tx, &group.code)
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict {
                field: "invoice_group.code".into(),
                message: format!("an invoice group {:?} already exists", group.code),
            });
        }
        let placeholders: Vec<String> = (1..=22).map(|n| format!("${n}")).collect();
        let sql = format!(
            "INSERT INTO invoice_group ({COLUMNS}) VALUES ({})",
            placeholders.join(", ")
        );
        let insert = sqlx::query(AssertSqlSafe(sql)).bind(group.code.clone());
        bind_fields(insert, &group)
            .bind(group.version)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as_conflict(e, "invoice_group.code"))?;
        Audit::new("invoice_group.create", "invoice_group", &group.code)
            .after(&group)
            .commit(tx, actor)
            .await?;
        Ok(group)
    }

    /// Replaces every field of the group found by its code (codes never change: invoices
    /// and series refer to them). The version must be the one read.
    pub async fn update_invoice_group(
        &self,
        actor: &Actor,
        mut group: InvoiceGroup,
    ) -> StoreResult<InvoiceGroup> {
        group.normalize();
        let mut tx = self.write_tx().await?;
        let before = Self::invoice_group_by_code(&mut tx, &group.code)
            .await?
            .ok_or_else(|| not_found(&group.code))?;
        let read_version = group.version;
        group.version = read_version + 1;
        let update = sqlx::query(
            "UPDATE invoice_group SET name = $1, street = $2, postcode = $3, city = $4,
                country = $5, company_id = $6, vat_id = $7, bank_account = $8, iban = $9,
                bic = $10, email = $11, phone = $12, currency = $13, due_days = $14,
                invoice_number_format = $15, credit_note_number_format = $16,
                proforma_number_format = $17, debit_note_number_format = $18,
                taxable_date_rule = $19, taxable_days_before = $20, version = $21
             WHERE code = $22 AND version = $23",
        );
        let updated = bind_fields(update, &group)
            .bind(group.version)
            .bind(group.code.clone())
            .bind(read_version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated == 0 {
            return Err(StoreError::Stale {
                entity: "invoice group",
                key: group.code,
            });
        }
        Audit::new("invoice_group.update", "invoice_group", &group.code)
            .before(&before)
            .after(&group)
            .commit(tx, actor)
            .await?;
        Ok(group)
    }

    /// Deletes a group no client and no document refers to. Its number series stay, so a
    /// group created again under the same code can never reuse a number.
    pub async fn delete_invoice_group(&self, actor: &Actor, code: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let before = Self::invoice_group_by_code(&mut tx, code)
            .await?
            .ok_or_else(|| not_found(code))?;
        for (sql, what) in [
            (
                "SELECT COUNT(*) FROM client WHERE invoice_group = $1",
                "client(s)",
            ),
            (
                "SELECT COUNT(*) FROM invoice WHERE invoice_group = $1",
                "issued document(s)",
            ),
        ] {
            let used: i64 = sqlx::query_scalar(sql)
                .bind(code.to_owned())
                .fetch_one(&mut *tx)
                .await?;
            if used > 0 {
                return Err(StoreError::Precondition(format!(
                    "invoice group {code:?} is used by {used} {what}"
                )));
            }
        }
        sqlx::query("DELETE FROM invoice_group WHERE code = $1")
            .bind(code.to_owned())
            .execute(&mut *tx)
            .await?;
        Audit::new("invoice_group.delete", "invoice_group", code)
            .before(&before)
            .commit(tx, actor)
            .await?;
        Ok(())
    }
}
