//! Clients and their child rows (groups, assigned variable symbols, bank accounts).

mod list;
mod row;

pub use list::{ClientFilter, SearchHit};
use row::{COLUMN_COUNT, COLUMNS, ClientRow, WRITE_COLUMNS, bind_client};

use ispd_billing::client::{BankAccount, Client, Duplicate};
use ispd_billing::payment::{Symbol, normalize_variable_symbol};
use sqlx::{AnyConnection, AssertSqlSafe};

use crate::statements::{Cells, Kind, Statements, Value};

use crate::{
    Actor, Arg, Audit, Store, StoreError, StoreResult, WriteTx, corrupt, now, unique_as_conflict,
};

impl Store {
    async fn load_children(conn: &mut AnyConnection, client: &mut Client) -> StoreResult<()> {
        client.groups = sqlx::query_scalar(
            "SELECT code FROM client_group_member WHERE client_id = $1 ORDER BY code",
        )
        .bind(client.id)
        .fetch_all(&mut *conn)
        .await?;
        client.invoicing.variable_symbols = sqlx::query_scalar(
            "SELECT variable_symbol FROM client_variable_symbol WHERE client_id = $1 ORDER BY position",
        )
        .bind(client.id)
        .fetch_all(&mut *conn)
        .await?;
        let accounts: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT number, iban, bic FROM client_bank_account WHERE client_id = $1 ORDER BY position",
        )
        .bind(client.id)
        .fetch_all(&mut *conn)
        .await?;
        client.bank_accounts = accounts
            .into_iter()
            .map(|(number, iban, bic)| BankAccount { number, iban, bic })
            .collect();
        Ok(())
    }

    async fn client_where(
        conn: &mut AnyConnection,
        condition: &str,
        key: Arg,
    ) -> StoreResult<Option<Client>> {
        let sql = format!("SELECT {COLUMNS} FROM client WHERE {condition}");
        let query = sqlx::query_as::<_, ClientRow>(AssertSqlSafe(sql));
        let row = match key {
            Arg::Text(t) => query.bind(t).fetch_optional(&mut *conn).await?,
            Arg::Int(i) => query.bind(i).fetch_optional(&mut *conn).await?,
        };
        match row {
            Some(row) => {
                let mut client = row.into_client()?;
                Self::load_children(conn, &mut client).await?;
                Ok(Some(client))
            }
            None => Ok(None),
        }
    }

    /// Client `number` as stored, inside a use case's transaction.
    pub async fn client_in(&self, tx: &mut WriteTx, number: &str) -> StoreResult<Client> {
        Self::client_by_number(tx.conn(), number).await
    }

    pub(super) async fn client_by_number(
        conn: &mut AnyConnection,
        number: &str,
    ) -> StoreResult<Client> {
        Self::client_where(conn, "number = $1", Arg::Text(number.to_owned()))
            .await?
            .ok_or_else(|| StoreError::not_found("client", number.to_owned()))
    }

    pub(super) async fn client_id_of(conn: &mut impl Statements, number: &str) -> StoreResult<i64> {
        let sql = "SELECT id FROM client WHERE number = $1";
        match conn
            .rows(sql, vec![Value::from(number)], &[Kind::Int])
            .await?
            .pop()
        {
            Some(row) => Cells::new("client", row).int("id"),
            None => Err(StoreError::not_found("client", number.to_owned())),
        }
    }

    pub async fn get_client(&self, number: &str) -> StoreResult<Client> {
        let mut conn = self.pool.acquire().await?;
        Self::client_by_number(&mut conn, number).await
    }

    /// The number proposed for a new client: one past the highest numeric client number.
    pub async fn next_client_number(&self) -> StoreResult<String> {
        let mut conn = self.pool.acquire().await?;
        Self::propose_number(&mut conn).await
    }

    async fn propose_number(conn: &mut AnyConnection) -> StoreResult<String> {
        let highest: Option<i64> = sqlx::query_scalar("SELECT MAX(number_numeric) FROM client")
            .fetch_one(conn)
            .await?;
        Ok(ispd_billing::client::propose_number(highest))
    }

    /// Codes must exist in their code list; checked here because the lists are editable.
    async fn check_codes(conn: &mut AnyConnection, client: &Client) -> StoreResult<()> {
        let mut checks: Vec<(&str, &str, String)> = vec![
            ("client_status", "client.status", client.status.clone()),
            (
                "payment_type",
                "client.invoicing.payment_type",
                client.invoicing.payment_type.clone(),
            ),
        ];
        for group in &client.groups {
            checks.push(("client_group", "client.groups", group.clone()));
        }
        let group: Option<String> =
            sqlx::query_scalar("SELECT code FROM invoice_group WHERE code = $1")
                .bind(client.invoicing.invoice_group.clone())
                .fetch_optional(&mut *conn)
                .await?;
        if group.is_none() {
            return Err(StoreError::Invalid(ispd_billing::FieldError::new(
                "client.invoicing.invoice_group",
                format!("no invoice group {:?}", client.invoicing.invoice_group),
            )));
        }
        for (list, field, code) in checks {
            let found: Option<String> =
                sqlx::query_scalar("SELECT code FROM code_list WHERE list = $1 AND code = $2")
                    .bind(list.to_owned())
                    .bind(code.clone())
                    .fetch_optional(&mut *conn)
                    .await?;
            if found.is_none() {
                return Err(StoreError::Invalid(ispd_billing::FieldError::new(
                    field,
                    format!("{code:?} is not in the {list} code list"),
                )));
            }
        }
        Ok(())
    }

    /// Variable symbols identify one client for payment matching, so they may not be shared.
    async fn check_variable_symbols(conn: &mut AnyConnection, client: &Client) -> StoreResult<()> {
        if let Some(owner) = Self::variable_symbol_owner(conn, &client.number, client.id).await? {
            return Err(StoreError::Conflict {
                field: "client.number".into(),
                message: format!(
                    "{} is a variable symbol of client {owner}; payments could not tell them apart",
                    client.number
                ),
            });
        }
        for (i, vs) in client.invoicing.variable_symbols.iter().enumerate() {
            if let Some(owner) = Self::variable_symbol_owner(conn, vs, client.id).await? {
                return Err(StoreError::Conflict {
                    field: format!("client.invoicing.variable_symbols[{i}]"),
                    message: format!("{vs} is already a variable symbol of client {owner}"),
                });
            }
        }
        Ok(())
    }

    /// Another client that a payment with this variable symbol would be matched to: by its
    /// number, an assigned symbol or a service's symbol. A symbol must name one client — as
    /// matching reads it, without the leading zeros banks pad it with
    /// (`ispd_billing::payment::normalize_variable_symbol`): "0077" is 77's.
    pub(super) async fn variable_symbol_owner(
        conn: &mut AnyConnection,
        vs: &str,
        except_client: i64,
    ) -> StoreResult<Option<String>> {
        let (key, significant) = match normalize_variable_symbol(vs) {
            Symbol::Valid(digits) => ("ltrim({}, '0')", digits),
            Symbol::Missing | Symbol::Invalid(_) => ("{}", vs.to_owned()),
        };
        let read = |column: &str| key.replace("{}", column);
        let sql = format!(
            "SELECT number FROM (
                SELECT number FROM client WHERE {} = $1 AND id <> $2
                UNION SELECT c.number FROM client_variable_symbol v
                    JOIN client c ON c.id = v.client_id
                    WHERE {} = $1 AND v.client_id <> $2
                UNION SELECT c.number FROM subscription s
                    JOIN client c ON c.id = s.client_id
                    WHERE {} = $1 AND s.client_id <> $2
             ) AS owners LIMIT 1",
            read("number"),
            read("v.variable_symbol"),
            read("s.variable_symbol"),
        );
        Ok(sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(significant)
            .bind(except_client)
            .fetch_optional(conn)
            .await?)
    }

    /// ID card and company ID reuse is reported, not refused (ISPadmin behaviour).
    async fn duplicates(conn: &mut AnyConnection, client: &Client) -> StoreResult<Vec<Duplicate>> {
        let mut found = Vec::new();
        for (field, column, value) in [
            ("id_number", "id_number", &client.id_number),
            ("company_id", "company_id", &client.company_id),
            // Czech Post collects SIPO per number: two cards with one pay each other's bills.
            ("sipo_number", "sipo_number", &client.invoicing.sipo_number),
        ] {
            if value.trim().is_empty() {
                continue;
            }
            let others: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT number FROM client WHERE {column} = $1 AND id <> $2 ORDER BY number"
            )))
            .bind(value.clone())
            .bind(client.id)
            .fetch_all(&mut *conn)
            .await?;
            found.extend(others.into_iter().map(|other_client| Duplicate {
                field,
                other_client,
            }));
        }
        Ok(found)
    }

    /// Deletes a client's child rows: its groups, assigned variable symbols, bank accounts.
    async fn delete_children(conn: &mut AnyConnection, client_id: i64) -> StoreResult<()> {
        for table in [
            "client_group_member",
            "client_variable_symbol",
            "client_bank_account",
        ] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE client_id = $1"
            )))
            .bind(client_id)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    async fn write_children(conn: &mut AnyConnection, client: &Client) -> StoreResult<()> {
        Self::delete_children(conn, client.id).await?;
        for group in &client.groups {
            sqlx::query("INSERT INTO client_group_member (client_id, code) VALUES ($1, $2)")
                .bind(client.id)
                .bind(group.clone())
                .execute(&mut *conn)
                .await?;
        }
        for (position, vs) in client.invoicing.variable_symbols.iter().enumerate() {
            sqlx::query(
                "INSERT INTO client_variable_symbol (variable_symbol, client_id, position) VALUES ($1, $2, $3)",
            )
            .bind(vs.clone())
            .bind(client.id)
            .bind(position as i64)
            .execute(&mut *conn)
            .await
            .map_err(|e| unique_as_conflict(e, "client.invoicing.variable_symbols"))?;
        }
        for (position, account) in client.bank_accounts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO client_bank_account (client_id, position, number, iban, bic) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(client.id)
            .bind(position as i64)
            .bind(account.number.clone())
            .bind(account.iban.clone())
            .bind(account.bic.clone())
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Writes a new client as it is given, in its own transaction. An empty number gets the
    /// next free one and the card's defaults are filled in (seeding and tests write through
    /// here); the rules are the caller's: the use case validates first and puts the card's
    /// opening balance on the account (`app::clients::create`).
    pub async fn create_client(
        &self,
        actor: &Actor,
        mut client: Client,
    ) -> StoreResult<(Client, Vec<Duplicate>)> {
        let mut tx = self.begin_write().await?;
        if client.number.is_empty() {
            client.number = self.claim_client_number_in(&mut tx).await?;
        }
        client.apply_defaults();
        let saved = self.insert_client_in(&mut tx, client).await?;
        self.record_client_created_in(&mut tx, actor, &saved.0)
            .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// The next free client number, held for this transaction: on PostgreSQL a second
    /// creator waits, then sees the first one's number.
    pub async fn claim_client_number_in(&self, tx: &mut WriteTx) -> StoreResult<String> {
        if self.backend == super::Backend::Postgres {
            sqlx::query("LOCK TABLE client IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx.conn())
                .await?;
        }
        Self::propose_number(tx.conn()).await
    }

    /// Writes a new client card in the caller's transaction; the number is given (see
    /// [`Store::claim_client_number_in`]). Returns the stored client and the
    /// duplicate-identifier warnings. Its audit record is [`Store::record_client_created_in`],
    /// once the use case has put the card's opening balance on the account.
    pub async fn insert_client_in(
        &self,
        tx: &mut WriteTx,
        mut client: Client,
    ) -> StoreResult<(Client, Vec<Duplicate>)> {
        let tx = tx.conn();
        client.id = 0;
        client.version = 1;
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM client WHERE number = $1")
            .bind(client.number.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict {
                field: "client.number".into(),
                message: format!("client number {} is already taken", client.number),
            });
        }
        Self::check_codes(tx, &client).await?;
        Self::check_variable_symbols(tx, &client).await?;
        let warnings = Self::duplicates(tx, &client).await?;
        let at = now();
        let sql = format!(
            "INSERT INTO client ({}, created_at, updated_at) VALUES ({}) RETURNING id",
            WRITE_COLUMNS,
            (1..=COLUMN_COUNT + 2)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let id: i64 = bind_client(sqlx::query_scalar(AssertSqlSafe(sql)), &client)?
            .bind(at.clone())
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| unique_as_conflict(e, "client.number"))?;
        client.id = id;
        Self::write_children(tx, &client).await?;
        Ok((client, warnings))
    }

    /// The audit record of a client created in this transaction.
    pub async fn record_client_created_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        client: &Client,
    ) -> StoreResult<()> {
        Audit::new("client.create", "client", &client.number)
            .client(&client.number)
            .after(client)
            .record(tx.conn(), actor)
            .await
    }

    /// Writes the card over the stored one of `client.id` at `version_read`, with its child
    /// rows (groups, variable symbols, bank accounts).
    async fn write_card(
        conn: &mut AnyConnection,
        client: &Client,
        version_read: i64,
    ) -> StoreResult<()> {
        let assignments = WRITE_COLUMNS
            .split(',')
            .map(str::trim)
            .enumerate()
            .map(|(i, column)| format!("{column} = ${}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE client SET {assignments}, updated_at = ${} WHERE id = ${} AND version = ${} RETURNING id",
            COLUMN_COUNT + 1,
            COLUMN_COUNT + 2,
            COLUMN_COUNT + 3
        );
        let updated: Option<i64> = bind_client(sqlx::query_scalar(AssertSqlSafe(sql)), client)?
            .bind(now())
            .bind(client.id)
            .bind(version_read)
            .fetch_optional(&mut *conn)
            .await?;
        if updated.is_none() {
            return Err(StoreError::Stale {
                entity: "client",
                key: client.number.clone(),
            });
        }
        Self::write_children(conn, client).await
    }

    /// Writes a card whose personal data the use case erased (at the version it read),
    /// applies `scrub` to every recorded copy of the card in the client's audit history, and
    /// records the erasure naming only its `categories`.
    pub async fn erase_client_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        mut client: Client,
        categories: &[&str],
        scrub: &(dyn Fn(&mut serde_json::Value) + Sync),
    ) -> StoreResult<Client> {
        let conn = tx.conn();
        let version_read = client.version;
        client.version += 1;
        Self::write_card(conn, &client, version_read).await?;
        let history: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, before_json, after_json FROM audit WHERE entity = 'client' AND entity_key = $1",
        )
        .bind(client.number.clone())
        .fetch_all(&mut *conn)
        .await?;
        for (id, before, after) in history {
            let scrubbed = |json: Option<String>| -> StoreResult<Option<String>> {
                let Some(json) = json else { return Ok(None) };
                let mut value: serde_json::Value = serde_json::from_str(&json)
                    .map_err(|e| corrupt(format!("audit record {id}: {e}")))?;
                scrub(&mut value);
                Ok(Some(value.to_string()))
            };
            sqlx::query("UPDATE audit SET before_json = $1, after_json = $2 WHERE id = $3")
                .bind(scrubbed(before)?)
                .bind(scrubbed(after)?)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        Audit::new("client.erase", "client", &client.number)
            .client(&client.number)
            .after(&serde_json::json!({ "categories": categories }))
            .record(conn, actor)
            .await?;
        Ok(client)
    }

    /// Replaces a client record as it is given (the use case validated it).
    /// `client.version` must be the version the edit was based on. The client number is the
    /// key and cannot change here.
    pub async fn update_client(
        &self,
        actor: &Actor,
        client: Client,
    ) -> StoreResult<(Client, Vec<Duplicate>)> {
        let mut tx = self.begin_write().await?;
        let (_, client, warnings) = self.update_client_in(&mut tx, actor, client).await?;
        tx.commit().await?;
        Ok((client, warnings))
    }

    /// [`Store::update_client`] inside a use case's transaction; returns the card as it was
    /// before too (its opening balance is the use case's to put on the account).
    pub async fn update_client_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        mut client: Client,
    ) -> StoreResult<(Client, Client, Vec<Duplicate>)> {
        let tx = tx.conn();
        let before = Self::client_by_number(tx, &client.number).await?;
        if before.version != client.version {
            return Err(StoreError::Stale {
                entity: "client",
                key: client.number,
            });
        }
        client.id = before.id;
        client.apply_defaults();
        Self::check_codes(tx, &client).await?;
        Self::check_variable_symbols(tx, &client).await?;
        let warnings = Self::duplicates(tx, &client).await?;
        client.version = before.version + 1;
        Self::write_card(tx, &client, before.version).await?;
        Audit::new("client.update", "client", &client.number)
            .client(&client.number)
            .before(&before)
            .after(&client)
            .record(tx, actor)
            .await?;
        Ok((before, client, warnings))
    }

    /// Deletes a contact that never became a client: refused once it has subscriptions.
    pub async fn delete_client(&self, actor: &Actor, number: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let before = Self::client_by_number(&mut tx, number).await?;
        let subscriptions: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM subscription WHERE client_id = $1")
                .bind(before.id)
                .fetch_one(&mut *tx)
                .await?;
        if subscriptions > 0 {
            return Err(StoreError::Precondition(format!(
                "client {number} has {subscriptions} subscription(s); end and delete them first"
            )));
        }
        let pending = Self::pending_naming(&mut tx, "client", number).await?;
        if pending > 0 {
            return Err(StoreError::Precondition(format!(
                "client {number} is named by {pending} scheduled transfer(s); withdraw them \
                 first (ispctl subscription pending)"
            )));
        }
        // The books first: a billed charge is on an invoice and can no longer be deleted,
        // so only a client without books is told to delete its (then unbilled) charges.
        if Self::has_books(&mut tx, before.id).await? {
            return Err(StoreError::Precondition(format!(
                "client {number} has invoices or payments; its books must stay"
            )));
        }
        let charges: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM one_off_charge WHERE client_id = $1 AND invoice_id IS NULL",
        )
        .bind(before.id)
        .fetch_one(&mut *tx)
        .await?;
        if charges > 0 {
            return Err(StoreError::Precondition(format!(
                "client {number} has {charges} unbilled one-off charge(s); delete them first"
            )));
        }
        Self::delete_children(&mut tx, before.id).await?;
        sqlx::query(
            "DELETE FROM invoice_line WHERE invoice_id IN
                (SELECT id FROM invoice WHERE client_id = $1)",
        )
        .bind(before.id)
        .execute(&mut *tx)
        .await?;
        for table in ["invoice", "one_off_charge"] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE client_id = $1"
            )))
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM client WHERE id = $1")
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
        Audit::new("client.delete", "client", number)
            .client(number)
            .before(&before)
            .commit(tx, actor)
            .await?;
        Ok(())
    }
}
