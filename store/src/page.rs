//! Keyset paging, the one shape every list of the API has: rows ordered by id, a page
//! continuing after (or, newest first, before) the last id of the previous one, one row more
//! fetched than asked to learn whether another page follows. [`fetch_page`] is that query;
//! [`PageRequest::page`] cuts its answer into a [`Page`] with the next token.
//! A list is one call to [`fetch_page`] with its filter.

use sqlx::AnyConnection;
use sqlx::AssertSqlSafe;

use crate::{Arg, FieldError, StoreResult, Where};

/// Keyset paging: at most this many rows per page.
pub const MAX_PAGE_SIZE: u32 = 1000;
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// A page of results and the token for the next one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
}

/// A request for one page: `after` is the page token (an id) of the previous page.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageRequest {
    pub size: u32,
    pub after: Option<i64>,
}

impl PageRequest {
    pub fn parse(size: u32, token: &str) -> Result<PageRequest, FieldError> {
        let after = if token.is_empty() {
            None
        } else {
            Some(token.parse::<i64>().map_err(|_| {
                FieldError::new("page.page_token", "not a token from a previous page")
            })?)
        };
        Ok(PageRequest { size, after })
    }

    pub(crate) fn limit(self) -> i64 {
        let size = match self.size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        i64::from(size)
    }

    /// The page out of what [`fetch_page`] returned (converted to records): cut to the page's
    /// size, with the token of its last item when the extra row says another page follows.
    pub(crate) fn page<T>(self, mut items: Vec<T>, id_of: impl Fn(&T) -> i64) -> Page<T> {
        let limit = usize::try_from(self.limit()).unwrap_or(usize::MAX);
        let next_page_token = if items.len() > limit {
            items.truncate(limit);
            items
                .last()
                .map(|t| id_of(t).to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Page {
            items,
            next_page_token,
        }
    }
}

/// Which way a list runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Oldest first: a page continues after its token's id.
    OldestFirst,
    /// Newest first (histories, the audit log): a page continues before it.
    NewestFirst,
}

/// One page of `select` (a `SELECT … FROM …` with its joins, no WHERE) under the filter `w`,
/// in `order` of `id_column`, continuing from `page`'s token: each row made a record by
/// `into_record`, the page's token the `id_of` its last record.
pub(crate) async fn fetch_page<R, T>(
    conn: &mut AnyConnection,
    select: &str,
    order: (&str, Order),
    w: Where,
    page: PageRequest,
    into_record: impl Fn(R) -> StoreResult<T>,
    id_of: impl Fn(&T) -> i64,
) -> StoreResult<Page<T>>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let rows: Vec<R> = fetch_rows(conn, select, order, w, page).await?;
    let records = rows
        .into_iter()
        .map(into_record)
        .collect::<StoreResult<Vec<T>>>()?;
    Ok(page.page(records, id_of))
}

/// The rows of one page as [`fetch_page`] reads them — plus one, for [`PageRequest::page`] —
/// for a list whose rows need more than a conversion to become records.
pub(crate) async fn fetch_rows<R>(
    conn: &mut AnyConnection,
    select: &str,
    (id_column, order): (&str, Order),
    mut w: Where,
    page: PageRequest,
) -> StoreResult<Vec<R>>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let direction = match order {
        Order::OldestFirst => "ASC",
        Order::NewestFirst => "DESC",
    };
    if let Some(token) = page.after {
        let condition = match order {
            Order::OldestFirst => format!("{id_column} > {{}}"),
            Order::NewestFirst => format!("{id_column} < {{}}"),
        };
        w.and(&condition, Arg::Int(token));
    }
    let sql = format!(
        "{select} {} ORDER BY {id_column} {direction} LIMIT {}",
        w.sql(),
        w.next_placeholder()
    );
    Ok(w.bind(sqlx::query_as::<_, R>(AssertSqlSafe(sql)))
        .bind(page.limit() + 1)
        .fetch_all(conn)
        .await?)
}
