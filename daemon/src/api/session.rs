//! SessionService: the read side of accounting (who is online, session history, traffic per
//! day). Read-only, so any valid token may call it.

use ispd_admin_proto::v1;
use tonic::{Request, Response, Status};

use super::{AdminState, Reply, date, field, page, paged};
use crate::app::sessions;
use crate::storage::{Page, SessionFilter, SessionRow};

/// Counters are stored as BIGINT and never negative; a negative one would be a bug elsewhere
/// and is shown as 0 rather than as a huge unsigned number.
fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) fn session_to(s: SessionRow) -> v1::Session {
    v1::Session {
        id: s.id,
        nas: s.nas_name,
        acct_session_id: s.acct_session_id,
        username: s.username,
        client_number: s.client_number.unwrap_or_default(),
        framed_ip: s.framed_ip.unwrap_or_default(),
        calling_station: s.calling_station.unwrap_or_default(),
        nas_port: s.nas_port.unwrap_or_default(),
        started_at: s.started_at,
        updated_at: s.updated_at,
        stopped_at: s.stopped_at.unwrap_or_default(),
        terminate_cause: s.terminate_cause.unwrap_or_default(),
        duration_seconds: unsigned(s.session_seconds),
        input_octets: unsigned(s.input_octets),
        output_octets: unsigned(s.output_octets),
        input_packets: unsigned(s.input_packets),
        output_packets: unsigned(s.output_packets),
    }
}

fn sessions_to(page: Page<SessionRow>) -> v1::ListSessionsResponse {
    let (sessions, next_page_token) = paged(page, session_to);
    v1::ListSessionsResponse {
        sessions,
        next_page_token,
    }
}

fn required_username(name: &str, text: &str) -> Result<String, Status> {
    let username = text.trim();
    if username.is_empty() {
        return Err(field(name, "required"));
    }
    Ok(username.to_owned())
}

#[tonic::async_trait]
impl v1::session_service_server::SessionService for AdminState {
    async fn list_open_sessions(
        &self,
        request: Request<v1::ListOpenSessionsRequest>,
    ) -> Reply<v1::ListSessionsResponse> {
        let r = request.into_inner();
        let framed_ip = match r.framed_ip.trim() {
            "" => String::new(),
            // Canonical text, as accounting stores it.
            ip => ip
                .parse::<std::net::IpAddr>()
                .map_err(|_| field("framed_ip", format!("not an IP address: {ip:?}")))?
                .to_string(),
        };
        let filter = SessionFilter {
            client_number: r.client_number.trim().to_owned(),
            username: r.username.trim().to_owned(),
            nas_name: r.nas.trim().to_owned(),
            framed_ip,
        };
        let page = sessions::open(&self.app(), &filter, page(r.page)?).await?;
        Ok(Response::new(sessions_to(page)))
    }

    async fn session_history(
        &self,
        request: Request<v1::SessionHistoryRequest>,
    ) -> Reply<v1::ListSessionsResponse> {
        let r = request.into_inner();
        let username = required_username("username", &r.username)?;
        let page = sessions::history(&self.app(), &username, page(r.page)?).await?;
        Ok(Response::new(sessions_to(page)))
    }

    async fn list_pools(&self, _: Request<v1::ListPoolsRequest>) -> Reply<v1::ListPoolsResponse> {
        let pools = sessions::pools(&self.radius)
            .into_iter()
            .map(|p| v1::Pool {
                free: p.size.saturating_sub(p.offered + p.in_use + p.reserved),
                prefixes_free: p
                    .prefix_size
                    .saturating_sub(p.prefixes_offered + p.prefixes_in_use + p.prefixes_reserved),
                prefixes: p.prefixes.iter().map(|b| b.block().to_string()).collect(),
                prefix_length: p.prefixes.first().map_or(0, |b| u32::from(b.delegated())),
                name: p.name,
                nas: p.nas,
                ranges: p.ranges.iter().map(ToString::to_string).collect(),
                size: p.size,
                offered: p.offered,
                in_use: p.in_use,
                reserved: p.reserved,
                prefix_size: p.prefix_size,
                prefixes_offered: p.prefixes_offered,
                prefixes_in_use: p.prefixes_in_use,
                prefixes_reserved: p.prefixes_reserved,
            })
            .collect();
        Ok(Response::new(v1::ListPoolsResponse { pools }))
    }

    async fn daily_usage(
        &self,
        request: Request<v1::DailyUsageRequest>,
    ) -> Reply<v1::DailyUsageResponse> {
        let r = request.into_inner();
        let username = required_username("username", &r.username)?;
        let from = date("from", r.from.trim())?.ok_or_else(|| field("from", "required"))?;
        let to = date("to", r.to.trim())?.ok_or_else(|| field("to", "required"))?;
        let usage = sessions::daily_usage(&self.app(), &username, (from, to)).await?;
        let days: Vec<v1::UsageDay> = usage
            .days
            .into_iter()
            .map(|d| v1::UsageDay {
                day: d.day.format("%Y-%m-%d").to_string(),
                input_octets: unsigned(d.input_octets),
                output_octets: unsigned(d.output_octets),
                session_seconds: unsigned(d.session_seconds),
            })
            .collect();
        Ok(Response::new(v1::DailyUsageResponse {
            total_input_octets: usage.total.input_octets,
            total_output_octets: usage.total.output_octets,
            total_session_seconds: usage.total.session_seconds,
            days,
        }))
    }
}
