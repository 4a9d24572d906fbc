//! Listing and searching clients.

use ispd_billing::client::{Characteristic, Client};
use sqlx::AssertSqlSafe;

use super::row::{COLUMNS, ClientRow};
use crate::page::{Order, fetch_rows};
use crate::{Arg, Page, PageRequest, Store, StoreResult, Where};

/// Filters for listing clients; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    pub name_contains: String,
    pub group: String,
    pub status: String,
    pub city: String,
    /// The language the client is written to in (BILLmanager's list filter).
    pub language: String,
    pub characteristic: Option<Characteristic>,
    /// Whether the signed contract came back (ISPadmin "Smlouva vrácena"); `None`: either.
    pub contract_returned: Option<bool>,
    /// Only clients with an active subscription on this tariff (the "active product").
    pub tariff: String,
    /// Registered (created) at or after / before these instants: the use case makes them of
    /// the operator's days, in `[billing] timezone`.
    pub registered_since: Option<chrono::DateTime<chrono::Utc>>,
    pub registered_before: Option<chrono::DateTime<chrono::Utc>>,
    /// Only clients owing something: an open document.
    pub owing: bool,
}

/// A search result and the field that matched.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub client: Client,
    pub matched: &'static str,
}

/// Case-folded text for name search, done in Rust so "Novák" matches "NOVÁK" on both backends.
pub(super) fn fold(text: &str) -> String {
    text.to_lowercase()
}

fn like_pattern(fragment: &str) -> String {
    let escaped = fragment
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{}%", fold(&escaped))
}

impl Store {
    pub async fn list_clients(
        &self,
        filter: &ClientFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Client>> {
        let mut w = Where::default();
        if !filter.name_contains.is_empty() {
            w.and(
                "name_folded LIKE {} ESCAPE '\\'",
                Arg::Text(like_pattern(&filter.name_contains)),
            );
        }
        if !filter.group.is_empty() {
            w.and(
                "id IN (SELECT client_id FROM client_group_member WHERE code = {})",
                Arg::Text(filter.group.clone()),
            );
        }
        w.equals("status", &filter.status);
        w.equals("city", &filter.city);
        w.equals("language", &filter.language);
        if let Some(characteristic) = filter.characteristic {
            w.and(
                "characteristic = {}",
                Arg::Text(characteristic.as_str().to_owned()),
            );
        }
        Self::filter_books(&mut w, filter);
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<ClientRow> = fetch_rows(
            &mut conn,
            &format!("SELECT {COLUMNS} FROM client"),
            ("id", Order::OldestFirst),
            w,
            page,
        )
        .await?;
        let mut clients = Vec::with_capacity(rows.len());
        for row in rows {
            let mut client = row.into_client()?;
            Self::load_children(&mut conn, &mut client).await?;
            clients.push(client);
        }
        Ok(page.page(clients, |c| c.id))
    }

    /// The filters of the client list that read the contract, the services and the books.
    fn filter_books(w: &mut Where, filter: &ClientFilter) {
        match filter.contract_returned {
            Some(true) => w.and_true("contract_returned_on IS NOT NULL"),
            Some(false) => w.and_true("contract_returned_on IS NULL"),
            None => {}
        }
        if !filter.tariff.is_empty() {
            w.and(
                "id IN (SELECT s.client_id FROM subscription s JOIN tariff t ON t.id = s.tariff_id
                    WHERE s.state = 'active' AND t.name = {})",
                Arg::Text(filter.tariff.clone()),
            );
        }
        // created_at is a fixed-width RFC 3339 UTC timestamp: as text, it sorts as time.
        if let Some(at) = filter.registered_since {
            w.and("created_at >= {}", Arg::Text(crate::timestamp(at)));
        }
        if let Some(at) = filter.registered_before {
            w.and("created_at < {}", Arg::Text(crate::timestamp(at)));
        }
        if filter.owing {
            w.and_true(
                "id IN (SELECT client_id FROM invoice WHERE state IN ('unpaid', 'partially_paid'))",
            );
        }
    }

    /// Finds clients the way a support desk asks: by number, variable symbol, login, IP, MAC,
    /// e-mail, phone or a fragment of the name. Exact identifiers are tried first.
    pub async fn search_clients(&self, query: &str, limit: u32) -> StoreResult<Vec<SearchHit>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let limit = if limit == 0 { 20 } else { limit.min(200) } as usize;
        let mac = query
            .parse::<ispd_provisioning::mac::MacAddress>()
            .ok()
            .map(|m| m.to_string());
        let mut probes: Vec<(&'static str, String, String)> = vec![
            ("number", "SELECT id FROM client WHERE number = $1".into(), query.to_owned()),
            (
                "variable_symbol",
                "SELECT client_id FROM client_variable_symbol WHERE variable_symbol = $1
                 UNION SELECT client_id FROM subscription WHERE variable_symbol = $1".into(),
                query.to_owned(),
            ),
            (
                "login",
                "SELECT s.client_id FROM login l JOIN subscription s ON s.id = l.subscription_id WHERE l.username = $1".into(),
                query.to_owned(),
            ),
            (
                "ip",
                "SELECT s.client_id FROM login l JOIN subscription s ON s.id = l.subscription_id WHERE l.ipv4 = $1 OR l.ipv6_prefix = $1".into(),
                query.to_owned(),
            ),
            (
                "email",
                "SELECT id FROM client WHERE LOWER(email) = $1 OR LOWER(invoice_email) = $1 OR LOWER(technical_email) = $1 OR LOWER(business_email) = $1".into(),
                query.to_lowercase(),
            ),
            (
                "phone",
                "SELECT id FROM client WHERE REPLACE(phone, ' ', '') = $1 OR REPLACE(mobile, ' ', '') = $1".into(),
                query.replace(' ', ""),
            ),
            (
                "name",
                "SELECT id FROM client WHERE name_folded LIKE $1 ESCAPE '\\' ORDER BY name_folded".into(),
                like_pattern(query),
            ),
        ];
        if let Some(mac) = mac {
            probes.insert(
                4,
                (
                    "mac",
                    "SELECT s.client_id FROM login l JOIN subscription s ON s.id = l.subscription_id WHERE l.mac = $1".into(),
                    mac,
                ),
            );
        }
        let mut conn = self.pool.acquire().await?;
        let mut hits: Vec<SearchHit> = Vec::new();
        for (matched, sql, arg) in probes {
            let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(arg)
                .fetch_all(&mut *conn)
                .await?;
            for id in ids {
                if hits.len() >= limit {
                    return Ok(hits);
                }
                if hits.iter().any(|h| h.client.id == id) {
                    continue;
                }
                if let Some(client) = Self::client_where(&mut conn, "id = $1", Arg::Int(id)).await?
                {
                    hits.push(SearchHit { client, matched });
                }
            }
        }
        Ok(hits)
    }
}
