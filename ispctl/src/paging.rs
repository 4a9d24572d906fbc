//! Keyset paging shared by every list command.
//!
//! The server pages with opaque tokens (default 50, at most 1000 per page). Without flags a
//! list shows one server-sized page and says how to continue; `--limit` and `--all` fetch as
//! many pages as needed, always asking for exactly the number still wanted so that the token
//! handed back never skips an item.

use clap::Args;
use ispd_admin_proto::v1::PageRequest;

/// The largest page the server accepts.
const MAX_PAGE: u32 = 1000;

#[derive(Args, Debug, Clone, Default)]
pub struct PageArgs {
    /// Show at most N items, fetching several pages when needed.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "all")]
    pub limit: Option<u32>,
    /// Fetch every page, not just the first.
    #[arg(long)]
    pub all: bool,
    /// Continue an earlier listing from the token it printed.
    #[arg(long, value_name = "TOKEN")]
    pub page_token: Option<String>,
}

/// What a listing fetched, and the token of the page after it (empty = nothing more).
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
}

/// Calls `fetch` page after page as `args` asks.
pub async fn collect<T>(
    args: &PageArgs,
    mut fetch: impl AsyncFnMut(PageRequest) -> Result<(Vec<T>, String), tonic::Status>,
) -> Result<Page<T>, tonic::Status> {
    let mut items: Vec<T> = Vec::new();
    let mut page_token = args.page_token.clone().unwrap_or_default();
    loop {
        let page_size = match args.limit {
            Some(limit) => {
                let have = u32::try_from(items.len()).unwrap_or(u32::MAX);
                limit.saturating_sub(have).min(MAX_PAGE)
            }
            None if args.all => MAX_PAGE,
            None => 0,
        };
        let (mut got, next) = fetch(PageRequest {
            page_size,
            page_token,
        })
        .await?;
        let got_nothing = got.is_empty();
        items.append(&mut got);
        let want_more = match args.limit {
            Some(limit) => items.len() < limit as usize,
            None => args.all,
        };
        // An empty page with a token would otherwise loop forever on a misbehaving server.
        if next.is_empty() || !want_more || got_nothing {
            return Ok(Page {
                items,
                next_page_token: next,
            });
        }
        page_token = next;
    }
}
