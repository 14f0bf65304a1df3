//! The Session Manager data channel's binary framing (amazon-ssm-agent
//! `session/contracts/agentmessage.go`, session-manager-plugin `message/clientmessage.go`).
//!
//! Big-endian fields: header length (4, = 116: everything before the payload length), message
//! type (32, ASCII padded with spaces), schema version (4), created date (8, epoch ms), sequence
//! number (8), flags (8), message id (16: a UUID's low 8 bytes first, then its high 8), payload
//! digest (32, SHA-256 of the payload), payload type (4), payload length (4), payload.
use sha2::{Digest, Sha256};

pub const HEADER_LENGTH: u32 = 116;
const PAYLOAD_OFFSET: usize = HEADER_LENGTH as usize + 4;

pub const INPUT_STREAM_DATA: &str = "input_stream_data";
pub const OUTPUT_STREAM_DATA: &str = "output_stream_data";
pub const ACKNOWLEDGE: &str = "acknowledge";
pub const CHANNEL_CLOSED: &str = "channel_closed";
pub const START_PUBLICATION: &str = "start_publication";
pub const PAUSE_PUBLICATION: &str = "pause_publication";

/// Payload types (`contracts.PayloadType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadType {
    Output = 1,
    Error = 2,
    Size = 3,
    Parameter = 4,
    HandshakeRequest = 5,
    HandshakeResponse = 6,
    HandshakeComplete = 7,
    EncChallengeRequest = 8,
    EncChallengeResponse = 9,
    Flag = 10,
    StdErr = 11,
    ExitCode = 12,
}

impl PayloadType {
    pub fn from_u32(v: u32) -> Option<Self> {
        use PayloadType as P;
        Some(match v {
            1 => P::Output,
            2 => P::Error,
            3 => P::Size,
            4 => P::Parameter,
            5 => P::HandshakeRequest,
            6 => P::HandshakeResponse,
            7 => P::HandshakeComplete,
            8 => P::EncChallengeRequest,
            9 => P::EncChallengeResponse,
            10 => P::Flag,
            11 => P::StdErr,
            12 => P::ExitCode,
            _ => return None,
        })
    }
}

/// A `Flag` payload's value: the client asks to end the session.
pub const FLAG_TERMINATE_SESSION: u32 = 2;

#[derive(Clone, Debug, PartialEq)]
pub struct AgentMessage {
    pub message_type: String,
    pub schema_version: u32,
    pub created_ms: u64,
    pub sequence_number: i64,
    pub flags: u64,
    pub message_id: uuid::Uuid,
    /// As received (not checked: the agent does not check it, and some clients send a hex
    /// prefix instead of the raw digest); recomputed by `encode`.
    pub payload_digest: Vec<u8>,
    pub payload_type: u32,
    pub payload: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FrameError {
    #[error("agent message of {0} bytes is shorter than its header")]
    Short(usize),
    #[error("agent message header length {0} is not valid")]
    HeaderLength(u32),
    #[error("agent message has no message type")]
    NoType,
    #[error("agent message has no created date")]
    NoCreatedDate,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The UUID as the agent lays it out: its bytes 8..16, then 0..8.
fn put_uuid(out: &mut [u8], id: &uuid::Uuid) {
    let b = id.as_bytes();
    out[..8].copy_from_slice(&b[8..]);
    out[8..].copy_from_slice(&b[..8]);
}

fn get_uuid(b: &[u8]) -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&b[8..16]);
    bytes[8..].copy_from_slice(&b[..8]);
    uuid::Uuid::from_bytes(bytes)
}

impl AgentMessage {
    /// A new message of `message_type` carrying `payload`, created now.
    pub fn new(
        message_type: &str,
        sequence_number: i64,
        flags: u64,
        payload_type: PayloadType,
        payload: Vec<u8>,
        created_ms: u64,
    ) -> Self {
        AgentMessage {
            message_type: message_type.into(),
            schema_version: 1,
            created_ms,
            sequence_number,
            flags,
            message_id: uuid::Uuid::new_v4(),
            payload_digest: Sha256::digest(&payload).to_vec(),
            payload_type: payload_type as u32,
            payload,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8; PAYLOAD_OFFSET + self.payload.len()];
        out[0..4].copy_from_slice(&HEADER_LENGTH.to_be_bytes());
        let kind = &mut out[4..36];
        kind.fill(b' ');
        let t = self.message_type.as_bytes();
        kind[..t.len().min(32)].copy_from_slice(&t[..t.len().min(32)]);
        out[36..40].copy_from_slice(&self.schema_version.to_be_bytes());
        out[40..48].copy_from_slice(&self.created_ms.to_be_bytes());
        out[48..56].copy_from_slice(&self.sequence_number.to_be_bytes());
        out[56..64].copy_from_slice(&self.flags.to_be_bytes());
        put_uuid(&mut out[64..80], &self.message_id);
        out[80..112].copy_from_slice(&Sha256::digest(&self.payload));
        out[112..116].copy_from_slice(&self.payload_type.to_be_bytes());
        out[116..120].copy_from_slice(&(self.payload.len() as u32).to_be_bytes());
        out[PAYLOAD_OFFSET..].copy_from_slice(&self.payload);
        out
    }

    /// Parse and validate as the agent does (header length, type and created date present).
    pub fn decode(b: &[u8]) -> Result<Self, FrameError> {
        if b.len() < PAYLOAD_OFFSET {
            return Err(FrameError::Short(b.len()));
        }
        let header_length = u32_at(b, 0);
        if header_length == 0 || header_length as usize + 4 > b.len() {
            return Err(FrameError::HeaderLength(header_length));
        }
        let message_type = String::from_utf8_lossy(&b[4..36])
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .to_string();
        if message_type.is_empty() {
            return Err(FrameError::NoType);
        }
        let created_ms = u64_at(b, 40);
        if created_ms == 0 {
            return Err(FrameError::NoCreatedDate);
        }
        Ok(AgentMessage {
            message_type,
            schema_version: u32_at(b, 36),
            created_ms,
            sequence_number: u64_at(b, 48) as i64,
            flags: u64_at(b, 56),
            message_id: get_uuid(&b[64..80]),
            payload_digest: b[80..112].to_vec(),
            payload_type: u32_at(b, 112),
            payload: b[header_length as usize + 4..].to_vec(),
        })
    }

    /// The `acknowledge` for this stream data message (`AcknowledgeContent`).
    pub fn acknowledgement(&self, created_ms: u64) -> AgentMessage {
        let content = serde_json::json!({
            "AcknowledgedMessageType": self.message_type,
            "AcknowledgedMessageId": self.message_id.to_string(),
            "AcknowledgedMessageSequenceNumber": self.sequence_number,
            "IsSequentialMessage": true,
        });
        AgentMessage::new(
            ACKNOWLEDGE,
            0,
            3,
            PayloadType::Output,
            content.to_string().into_bytes(),
            created_ms,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_every_field() {
        let m = AgentMessage::new(
            OUTPUT_STREAM_DATA,
            7,
            1,
            PayloadType::Output,
            b"hello".to_vec(),
            1_700_000_000_000,
        );
        let bytes = m.encode();
        assert_eq!(bytes.len(), 125);
        assert_eq!(&bytes[0..4], &[0, 0, 0, 116]);
        assert_eq!(&bytes[4..22], b"output_stream_data");
        assert!(
            bytes[22..36].iter().all(|&c| c == b' '),
            "type padded with spaces"
        );
        assert_eq!(&bytes[116..120], &[0, 0, 0, 5]);
        assert_eq!(AgentMessage::decode(&bytes), Ok(m));
    }

    #[test]
    fn message_id_halves_are_swapped() {
        // The agent writes the UUID's least significant 8 bytes first.
        let mut m = AgentMessage::new(ACKNOWLEDGE, 0, 0, PayloadType::Output, vec![], 1);
        m.message_id = uuid::Uuid::parse_str("00112233-4455-6677-8899-aabbccddeeff").unwrap();
        let bytes = m.encode();
        assert_eq!(
            hex::encode(&bytes[64..80]),
            "8899aabbccddeeff0011223344556677"
        );
    }

    #[test]
    fn digest_is_the_payloads_sha256() {
        let bytes = AgentMessage::new(
            INPUT_STREAM_DATA,
            0,
            0,
            PayloadType::Output,
            b"ls\r".to_vec(),
            1,
        )
        .encode();
        assert_eq!(&bytes[80..112], Sha256::digest(b"ls\r").as_slice());
    }

    #[test]
    fn decode_rejects_what_the_agent_rejects() {
        let good = AgentMessage::new(
            INPUT_STREAM_DATA,
            0,
            0,
            PayloadType::Output,
            b"x".to_vec(),
            5,
        )
        .encode();
        let cases: Vec<(&str, Vec<u8>, FrameError)> = vec![
            ("short", good[..100].to_vec(), FrameError::Short(100)),
            (
                "no type",
                {
                    let mut b = good.clone();
                    b[4..36].fill(b' ');
                    b
                },
                FrameError::NoType,
            ),
            (
                "no date",
                {
                    let mut b = good.clone();
                    b[40..48].fill(0);
                    b
                },
                FrameError::NoCreatedDate,
            ),
            (
                "zero header",
                {
                    let mut b = good.clone();
                    b[0..4].fill(0);
                    b
                },
                FrameError::HeaderLength(0),
            ),
        ];
        for (name, bytes, err) in cases {
            assert_eq!(AgentMessage::decode(&bytes), Err(err), "{name}");
        }
    }

    #[test]
    fn left_nul_padded_types_from_other_clients_are_read() {
        // The npm ssm-session client pads the message type with leading NULs.
        let mut b = AgentMessage::new(
            INPUT_STREAM_DATA,
            1,
            0,
            PayloadType::Output,
            b"a".to_vec(),
            9,
        )
        .encode();
        let t = INPUT_STREAM_DATA.as_bytes();
        b[4..36].fill(0);
        b[36 - t.len()..36].copy_from_slice(t);
        assert_eq!(
            AgentMessage::decode(&b).unwrap().message_type,
            INPUT_STREAM_DATA
        );
    }

    #[test]
    fn acknowledgement_names_the_message() {
        let m = AgentMessage::new(
            INPUT_STREAM_DATA,
            4,
            0,
            PayloadType::Output,
            b"a".to_vec(),
            9,
        );
        let ack = m.acknowledgement(10);
        assert_eq!(ack.message_type, ACKNOWLEDGE);
        let j: serde_json::Value = serde_json::from_slice(&ack.payload).unwrap();
        assert_eq!(j["AcknowledgedMessageSequenceNumber"], 4);
        assert_eq!(j["AcknowledgedMessageId"], m.message_id.to_string());
        assert_eq!(j["AcknowledgedMessageType"], INPUT_STREAM_DATA);
    }
}
