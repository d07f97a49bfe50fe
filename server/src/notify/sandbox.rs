//! The demo's stand-in for an SMS provider and a mail server: messages are kept in memory (the
//! latest 200) and shown at `/sandbox/messages`, so the demo's notices, reset links and codes
//! can be seen without either. Only with the demo, and only for a channel nothing real is
//! configured for: it shows whatever was sent to anyone.

use app::domain::messaging::{Channel, SandboxMessage};
use chrono::Utc;
use std::{collections::VecDeque, sync::Mutex};

const KEPT: usize = 200;

#[derive(Debug, Default)]
pub struct SandboxOutbox {
    messages: Mutex<VecDeque<SandboxMessage>>,
}

impl SandboxOutbox {
    /// Keeps a message; returns the id a provider would have given it.
    pub fn keep(&self, channel: Channel, to: &str, subject: Option<&str>, text: &str) -> String {
        let mut messages = self
            .messages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let id = messages.back().map_or(1, |last| last.id + 1);
        if messages.len() == KEPT {
            messages.pop_front();
        }
        messages.push_back(SandboxMessage {
            id,
            at: Utc::now(),
            channel,
            to: to.to_owned(),
            subject: subject.map(str::to_owned),
            text: text.to_owned(),
        });
        format!("sandbox-{id}")
    }

    /// The messages kept, newest first.
    pub fn latest(&self) -> Vec<SandboxMessage> {
        let messages = self
            .messages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        messages.iter().rev().cloned().collect()
    }
}
