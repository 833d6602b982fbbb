//! `dns`: DNS queries in wire format (DoH and UDP) against a real ghostd's .ghost names.

use std::sync::Arc;

use ghostd::Call;
use ghostd_naming::dns::NameServer;
use ghostd_types::naming::NamingCall;
use ghostplane_primitives::Keypair;

use super::common::{Node, decoder_bound, sign_l1};
use crate::Harness;

pub(super) struct Dns {
    _node: Node,
    server: Arc<NameServer>,
}

impl Dns {
    pub(super) fn new() -> Result<Self, String> {
        let node = Node::open()?;
        let key = Keypair::dev(1);
        let register = Call::Naming(NamingCall::Register {
            name: "fuzz.ghost".into(),
            owner: key.public_key(),
            years: 1,
        });
        node.node
            .submit(sign_l1(&key, 0, register))
            .map_err(|e| e.to_string())?;
        node.seal()?;
        let server = NameServer::new(node.node.chain_view(), node.node.genesis().naming.clone());
        Ok(Self {
            _node: node,
            server,
        })
    }
}

impl Harness for Dns {
    fn seeds(&self) -> Vec<Vec<u8>> {
        use hickory_proto::op::{Message, MessageType, OpCode, Query};
        use hickory_proto::rr::{Name, RecordType};
        let mut seeds = Vec::new();
        for (name, kind) in [
            ("fuzz.ghost.", RecordType::A),
            ("fuzz.ghost.", RecordType::TXT),
            ("www.fuzz.ghost.", RecordType::MX),
            ("nothing.ghost.", RecordType::AAAA),
            ("example.com.", RecordType::A),
        ] {
            let Ok(name) = Name::from_ascii(name) else {
                continue;
            };
            let mut message = Message::new(0x1234, MessageType::Query, OpCode::Query);
            message.add_query(Query::query(name, kind));
            if let Ok(bytes) = message.to_vec() {
                seeds.push(bytes);
            }
        }
        seeds
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        match self.server.answer_wire(input) {
            Some(reply) => {
                let message = hickory_proto::op::Message::from_vec(&reply)
                    .map_err(|e| format!("the reply does not parse: {e}"))?;
                if input.len() >= 2
                    && message.metadata.id != u16::from_be_bytes([input[0], input[1]])
                {
                    return Err("the reply's id is not the query's".into());
                }
                Ok(message.metadata.response_code != hickory_proto::op::ResponseCode::FormErr)
            }
            None if input.len() >= 2 => Err("a query with an id got no reply".into()),
            None => Ok(false),
        }
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        // The answer cache holds at most `CACHE_ENTRIES_MAX` answers; a case that
        // grows its table may reallocate it (up to twice its size).
        decoder_bound(input_len) + ghostd_naming::dns::CACHE_ENTRIES_MAX * 512
    }
}
