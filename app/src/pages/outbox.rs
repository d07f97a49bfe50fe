//! `/sandbox/messages`: the demo's sandbox outbox, the SMS and e-mails it would have sent
//! (notices, reset links, codes, invitations), newest first. Drawn on the server.

use crate::api::notifications::sandbox_messages;
use crate::domain::messaging::{Channel, SandboxMessage};
use crate::pages::error_view;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SandboxOutboxPage() -> impl IntoView {
    let messages = Resource::new(|| (), |_| sandbox_messages());
    view! {
        <Title text="Sandbox messages"/>
        <h1>"Sandbox messages"</h1>
        <p>"The demo has no SMS provider or mail server: what it would have sent is kept here (the latest 200, until it stops). Anyone can read this page, so it exists only in the demo."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match messages.await {
                    Ok(messages) if messages.is_empty() => view! { <p class="empty">"Nothing sent yet."</p> }.into_any(),
                    Ok(messages) => view! {
                        <ol class="sandbox-messages">
                            {messages.into_iter().map(|message| view! { <Message message/> }).collect_view()}
                        </ol>
                    }
                    .into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Message(message: SandboxMessage) -> impl IntoView {
    let channel = match message.channel {
        Channel::Sms => "SMS",
        Channel::Email => "E-mail",
        Channel::Push => "Push",
    };
    view! {
        <li class="card sandbox-message" data-channel=message.channel.as_str()>
            <p class="hint">{format!("{channel} to {} · {} UTC", message.to, message.at.format("%Y-%m-%d %H:%M:%S"))}</p>
            {message.subject.map(|subject| view! { <h2>{subject}</h2> })}
            <pre>{message.text}</pre>
        </li>
    }
}
