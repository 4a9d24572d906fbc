//! The admin API's codec: prost's, except that a request which does not decode is the
//! caller's mistake. tonic's `ProstCodec` answers INTERNAL for it, as if ispd were broken;
//! here it is INVALID_ARGUMENT naming the field, in the message and as a
//! `google.rpc.BadRequest` field violation, as for every other bad input. Nothing reaches a
//! handler, so nothing is stored.
//!
//! The generated clients use the same codec for replies; ispd's replies are encoded by prost
//! and always decode.

use std::marker::PhantomData;

use prost::Message;
use tonic::codec::{Codec, DecodeBuf, Decoder};
use tonic::{Code, Status};
use tonic_prost::ProstEncoder;
use tonic_types::{ErrorDetails, StatusExt};

/// What `build.rs` names as the codec of every admin service.
#[derive(Debug, Clone)]
pub struct AdminCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for AdminCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for AdminCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = AdminDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        AdminDecoder(PhantomData)
    }
}

/// Decodes like prost and reports a failure with [`undecodable`].
#[derive(Debug, Clone)]
pub struct AdminDecoder<U>(PhantomData<U>);

impl<U: Message + Default> Decoder for AdminDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf)
            .map(Some)
            .map_err(|e| undecodable(&e.to_string()))
    }
}

/// INVALID_ARGUMENT for a message prost could not decode, with the field path when prost
/// knows it. prost keeps its (message, field) stack private; its text lists the stack
/// innermost first ("failed to decode Protobuf message: Client.name:
/// CreateClientRequest.client: invalid string value: data is not UTF-8 encoded"), which
/// becomes `client.name: invalid string value: data is not UTF-8 encoded`.
fn undecodable(text: &str) -> Status {
    let rest = text
        .strip_prefix("failed to decode Protobuf message: ")
        .unwrap_or(text);
    let mut fields = Vec::new();
    let mut problem = rest;
    while let Some((head, tail)) = problem.split_once(": ") {
        let Some(field) = stack_entry(head) else {
            break;
        };
        fields.push(field);
        problem = tail;
    }
    if fields.is_empty() {
        return Status::invalid_argument(format!("the request does not decode: {problem}"));
    }
    fields.reverse();
    let path = fields.join(".");
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{path}: {problem}"),
        ErrorDetails::with_bad_request_violation(path, problem),
    )
}

/// The field of a `Message.field` stack entry (a raw identifier without its `r#`).
fn stack_entry(entry: &str) -> Option<&str> {
    let (message, field) = entry.split_once('.')?;
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let field = field.strip_prefix("r#").unwrap_or(field);
    (ident(message) && ident(field)).then_some(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_text(bytes: &[u8]) -> String {
        crate::v1::CreateClientRequest::decode(bytes)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_string_that_is_not_utf8_names_its_field_path() {
        // CreateClientRequest.client (1) = Client { name (3) = "Nov\xe1k" }
        let bytes = [0x0a, 0x07, 0x1a, 0x05, b'N', b'o', b'v', 0xe1, b'k'];
        let status = undecodable(&decode_text(&bytes));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "client.name: invalid string value: data is not UTF-8 encoded"
        );
        let violations = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(violations[0].field, "client.name");
    }

    #[test]
    fn a_message_broken_outside_any_field_is_still_invalid_argument() {
        // A field key with wire type 7, which does not exist.
        let status = undecodable(&decode_text(&[0x0f]));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status
                .message()
                .starts_with("the request does not decode: "),
            "{}",
            status.message()
        );
    }
}
