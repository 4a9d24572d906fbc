//! `ispctl code …`: the editable code lists that client fields refer to (groups, statuses,
//! payment types; invoice groups are records of their own: `ispctl invoice-group`). `put`
//! creates or relabels, so it is safe to repeat.

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use ispd_admin_proto::v1::{Code, CodeList, DeleteCodeRequest, ListCodesRequest, PutCodeRequest};

use crate::args::{ProtoEnum, enum_name};
use crate::connect::Api;
use crate::message;
use crate::output::{Out, Record, Table};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List the codes of one list.
    List { kind: KindArg },
    /// Create a code, or change the label of an existing one.
    Put {
        kind: KindArg,
        /// Short machine code: lowercase letters, digits, '_' and '-'.
        code: String,
        /// Human-readable label.
        label: String,
    },
    /// Delete a code (refused while a client or a subscription uses it).
    Delete { kind: KindArg, code: String },
}

/// Which code list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Client groups (`client --group`).
    Group,
    /// Client statuses (`client --status`).
    Status,
    /// Payment types (`client --payment-type`).
    #[value(alias = "payment_type")]
    PaymentType,
    /// Why a service was cancelled (`subscription end --reason`).
    #[value(alias = "cancellation_reason")]
    CancellationReason,
}

impl ProtoEnum for KindArg {
    fn to_proto(self) -> i32 {
        (match self {
            Self::Group => CodeList::ClientGroup,
            Self::Status => CodeList::ClientStatus,
            Self::PaymentType => CodeList::PaymentType,
            Self::CancellationReason => CodeList::CancellationReason,
        }) as i32
    }
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.codes().await?;
    match cmd {
        Cmd::List { kind } => {
            let codes = svc
                .list_codes(ListCodesRequest {
                    list: kind.to_proto(),
                })
                .await?
                .into_inner()
                .codes;
            out.list(&codes, "", record, |codes| {
                Table::of(
                    ["CODE", "LABEL"],
                    codes.iter().map(|c| [c.code.clone(), c.label.clone()]),
                )
            })
        }
        Cmd::Put { kind, code, label } => {
            let code = Code {
                list: kind.to_proto(),
                code,
                label,
            };
            let request = PutCodeRequest { code: Some(code) };
            out.reply(svc.put_code(request).await?, record)
        }
        Cmd::Delete { kind, code } => {
            svc.delete_code(DeleteCodeRequest {
                list: kind.to_proto(),
                code: code.clone(),
            })
            .await?;
            out.deleted("code", &code)
        }
    }
}

/// The code as JSON / `show` lines; `list` uses the CLI names (group, status, …).
fn record(c: &Code) -> Record {
    message::record(c).replacing(Record::new().name("list", enum_name::<KindArg>(c.list)))
}
