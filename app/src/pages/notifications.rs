//! A person's notices: the recent ones, push on this device and their others, what they want
//! to hear of, quiet hours and language.

use crate::api::notifications::{
    SaveNotificationSettings, UnsubscribePush, load_notification_settings, my_notices,
    subscribe_push,
};
use crate::api::recovery::{ConfirmPhone, RemovePhone, SendPhoneCode};
use crate::domain::messaging::mask_phone;
use crate::domain::zone::SiteZone;
use crate::domain::{
    i18n::Locale,
    notices::{Category, Device, InboxLine, NotificationSettings},
};
use crate::pages::{error_view, form_error};
use crate::pages::{locale::use_locale, words::*};
use crate::pwa;
use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;

/// `/notifications`: forms the browser posts itself (the server sends the page back, saying
/// it is saved or what was wrong); only this device's push switch runs in the browser.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let save = ServerAction::<SaveNotificationSettings>::new();
    let remove = ServerAction::<UnsubscribePush>::new();
    // Sent back after saving; a failed save comes back with its error instead.
    let saved = leptos_router::hooks::use_query_map().with_untracked(|query| {
        query.get_str("saved").is_some() && query.get_str("__err").is_none()
    });
    let settings = Resource::new(|| (), |_| load_notification_settings());
    let inbox = Resource::new(|| (), |_| my_notices());
    let l = use_locale();
    view! {
        <Title text=NOTICES.get(l)/>
        <p class="breadcrumb"><a href="/">{HOME.get(l)}</a></p>
        <h1>{NOTICES.get(l)}</h1>
        <Suspense fallback=move || view! { <p>{LOADING.get(l)}</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(settings) => view! {
                        <ThisDevice vapid_key=settings.vapid_public_key.clone()/>
                        <Devices devices=settings.devices.clone() remove zone=settings.zone.clone()/>
                        <YourPhone settings=settings.clone()/>
                        <Preferences settings save saved/>
                    }
                    .into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match inbox.await {
                    Ok(lines) => view! { <Inbox lines/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
        <section class="card your-data" aria-labelledby="your-data">
            <h2 id="your-data">{YOUR_DATA.get(l)}</h2>
            <p>{YOUR_DATA_WHY.get(l)}</p>
            <p><a class="button secondary" href="/account/my-data.json" download>{DOWNLOAD_YOUR_DATA.get(l)}</a></p>
        </section>
    }
}

/// Push on this browser: its state, and the button that turns it on or off. Only the browser
/// knows, so this is an island; a change reloads the page for the list of devices.
#[island(lazy)]
fn ThisDevice(vapid_key: String) -> impl IntoView {
    crate::pages::island_ready();
    let l = use_locale();
    let supported = RwSignal::new(None::<bool>);
    let endpoint = RwSignal::new(None::<String>);
    let said = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Only the browser knows; this runs once the page is live.
    Effect::new(move |_| {
        spawn_local(async move {
            supported.set(Some(pwa::push_supported().await));
            endpoint.set(pwa::current_endpoint().await);
        });
    });
    let turn_on = move |_| {
        let vapid_key = vapid_key.clone();
        busy.set(true);
        spawn_local(async move {
            let outcome = match pwa::subscribe(&vapid_key).await {
                Ok(subscription) => subscribe_push(
                    subscription.endpoint.clone(),
                    subscription.p256dh,
                    subscription.auth,
                    subscription.label,
                )
                .await
                .map(|()| subscription.endpoint)
                .map_err(|error| error.to_string()),
                Err(error) => Err(error),
            };
            match outcome {
                Ok(subscribed) => {
                    endpoint.set(Some(subscribed));
                    said.set(Some(PUSH_ON_SAID.get(l).into()));
                    reload();
                }
                Err(error) => said.set(Some(error)),
            }
            busy.set(false);
        });
    };
    let turn_off = move |_| {
        busy.set(true);
        spawn_local(async move {
            let outcome = match pwa::unsubscribe().await {
                Ok(Some(old)) => crate::api::notifications::unsubscribe_push(old)
                    .await
                    .map_err(|error| error.to_string()),
                Ok(None) => Ok(()),
                Err(error) => Err(error),
            };
            match outcome {
                Ok(()) => {
                    endpoint.set(None);
                    said.set(Some(PUSH_OFF_SAID.get(l).into()));
                    reload();
                }
                Err(error) => said.set(Some(error)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card this-device" aria-labelledby="this-device">
            <h2 id="this-device">{THIS_DEVICE.get(l)}</h2>
            {move || match (supported.get(), endpoint.get()) {
                (None, _) => view! { <p class="muted">{CHECKING_BROWSER.get(l)}</p> }.into_any(),
                (Some(false), _) => view! {
                    <p>{NO_PUSH.get(l)}</p>
                }
                .into_any(),
                (Some(true), Some(_)) => view! {
                    <p class="push-state" data-push="on">{PUSH_IS_ON.get(l)}</p>
                    <button type="button" class="button secondary" on:click=turn_off disabled=move || busy.get()>
                        {TURN_OFF.get(l)}
                    </button>
                }
                .into_any(),
                (Some(true), None) => view! {
                    <p class="push-state" data-push="off">{PUSH_OFFER.get(l)}</p>
                    <button type="button" class="button" on:click=turn_on.clone() disabled=move || busy.get()>
                        {TURN_ON.get(l)}
                    </button>
                }
                .into_any(),
            }}
            {move || said.get().map(|said| view! { <p role="status">{said}</p> })}
        </section>
    }
}

/// The page again, for the devices list a subscription changed.
fn reload() {
    let _ = window().location().reload();
}

#[component]
fn Devices(
    devices: Vec<Device>,
    remove: ServerAction<UnsubscribePush>,
    zone: SiteZone,
) -> impl IntoView {
    if devices.is_empty() {
        return ().into_any();
    }
    let l = use_locale();
    view! {
        <section class="devices" aria-labelledby="devices">
            <h2 id="devices">{DEVICES.get(l)}</h2>
            <ul>
                {devices.into_iter().map(|device| {
                    let label = if device.label.is_empty() { A_BROWSER.get(l).to_owned() } else { device.label };
                    let last = device
                        .last_sent
                        .map(|at| LAST_NOTICE.fill(l, &[&l.date_time(zone.local(at))]))
                        .unwrap_or_default();
                    view! {
                        <li>
                            <span>{SINCE.fill(l, &[&label, &l.date(zone.local(device.since).date())])}{last}</span>
                            <ActionForm action=remove attr:class="inline">
                                <input type="hidden" name="endpoint" value=device.endpoint/>
                                <button type="submit" class="link-button" aria-label=format!("Stop notices to {label}")>{REMOVE.get(l)}</button>
                            </ActionForm>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn Preferences(
    settings: NotificationSettings,
    save: ServerAction<SaveNotificationSettings>,
    saved: bool,
) -> impl IntoView {
    let preferences = settings.preferences;
    let time = |at: Option<chrono::NaiveTime>| {
        at.map(|at| at.format("%H:%M").to_string())
            .unwrap_or_default()
    };
    let quiet_from = time(preferences.quiet.map(|quiet| quiet.from));
    let quiet_to = time(preferences.quiet.map(|quiet| quiet.to));
    let chosen = preferences.locale;
    let l = use_locale();
    let sms_to = match (&settings.phone, settings.sms_available) {
        (Some(phone), true) => mask_phone(phone),
        (None, true) => format!("— ({})", YOUR_PHONE.get(l)),
        (_, false) => CHANNEL_OFF.get(l).to_owned(),
    };
    let saved = saved.then(|| view! { <p role="status" class="saved">{SAVED.get(l)}</p> });
    view! {
        <section class="card preferences" aria-labelledby="preferences">
            <h2 id="preferences">{WHAT_TO_HEAR.get(l)}</h2>
            <ActionForm action=save>
                <fieldset>
                    <legend>{SEND_ME.get(l)}</legend>
                    {Category::ALL.into_iter().map(|category| {
                        let on = !preferences.muted.contains(&category);
                        view! {
                            <label class="check">
                                <input type="checkbox" name=category.as_str() value="on" checked=on/>
                                {category.label(l)}
                            </label>
                        }
                    }).collect_view()}
                    <p class="hint">{SAFETY_ALWAYS.get(l)}</p>
                </fieldset>
                <fieldset class="channels">
                    <legend>{ALSO_BY.get(l)}</legend>
                    <label class="check">
                        <input type="checkbox" name="by_sms" value="on" checked=preferences.by_sms
                            disabled=!(settings.sms_available && settings.phone.is_some())/>
                        {BY_SMS.fill(l, &[&sms_to])}
                    </label>
                    <label class="check">
                        <input type="checkbox" name="by_email" value="on" checked=preferences.by_email
                            disabled=!settings.email_available/>
                        {BY_EMAIL.fill(l, &[&settings.email])}
                        {(!settings.email_available).then(|| view! { " " {CHANNEL_OFF.get(l)} })}
                    </label>
                    <p class="hint">{NO_DEVICE_FALLBACK.get(l)}</p>
                </fieldset>
                <fieldset>
                    <legend>{QUIET_HOURS.fill(l, &[&settings.zone.name])}</legend>
                    <p class="hint">{QUIET_WAIT.get(l)}</p>
                    <label>{QUIET_FROM.get(l)} <input type="time" name="quiet_from" value=quiet_from/></label>
                    " "
                    <label>{QUIET_TO.get(l)} <input type="time" name="quiet_to" value=quiet_to/></label>
                </fieldset>
                <label>
                    {LANGUAGE_OF_NOTICES.get(l)}
                    <select name="locale">
                        <option value="" selected=chosen.is_none()>
                            {SITES_LANGUAGE.fill(l, &[settings.site_locale.name()])}
                        </option>
                        {Locale::ALL.into_iter().map(|locale| view! {
                            <option value=locale.tag() selected=chosen == Some(locale)>{locale.name()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <p><button type="submit" class="button">{SAVE.get(l)}</button></p>
                {form_error(save.value())}
                {saved}
            </ActionForm>
        </section>
    }
}

/// The person's mobile number: added with a code sent to it, or removed.
#[component]
fn YourPhone(settings: NotificationSettings) -> impl IntoView {
    if !settings.sms_available && settings.phone.is_none() {
        return ().into_any();
    }
    let send = ServerAction::<SendPhoneCode>::new();
    let confirm = ServerAction::<ConfirmPhone>::new();
    let remove = ServerAction::<RemovePhone>::new();
    let asked = leptos_router::hooks::use_query_map().with_untracked(|query| query.get("phone"));
    let l = use_locale();
    let body = match (asked, settings.phone) {
        (Some(asked), _) => view! {
            <p role="status">{CONFIRM_CODE_FOR.fill(l, &[&mask_phone(&asked)])}</p>
            <ActionForm action=confirm>
                <label>{CODE.get(l)}
                    <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required/>
                </label>
                <button type="submit" class="button">{CONFIRM.get(l)}</button>
            </ActionForm>
            {form_error(confirm.value())}
        }
        .into_any(),
        (None, Some(phone)) => view! {
            <p class="phone">{PHONE_IS.fill(l, &[&phone])}</p>
            <ActionForm action=remove attr:class="inline">
                <button type="submit" class="link-button">{REMOVE_NUMBER.get(l)}</button>
            </ActionForm>
            {form_error(remove.value())}
        }
        .into_any(),
        (None, None) => view! {
            <p class="hint">{PHONE_WHY.get(l)}</p>
            <ActionForm action=send>
                <label>{MOBILE_NUMBER.get(l)}
                    <input type="tel" name="phone" autocomplete="tel" required maxlength="24"/>
                </label>
                <button type="submit" class="button">{SEND_CODE.get(l)}</button>
            </ActionForm>
            {form_error(send.value())}
        }
        .into_any(),
    };
    view! {
        <section class="card your-phone" id="phone" aria-labelledby="your-phone">
            <h2 id="your-phone">{YOUR_PHONE.get(l)}</h2>
            {body}
        </section>
    }
    .into_any()
}

#[component]
fn Inbox(lines: Vec<InboxLine>) -> impl IntoView {
    let l = use_locale();
    view! {
        <section class="inbox" aria-labelledby="inbox">
            <h2 id="inbox">{RECENT_NOTICES.get(l)}</h2>
            {if lines.is_empty() {
                view! { <p class="empty">{NO_NOTICES.get(l)}</p> }.into_any()
            } else {
                view! {
                    <ul class="notice-list">
                        {lines.into_iter().map(|line| view! {
                            <li class=format!("notice-line notice-{}", line.kind)>
                                <a href=line.message.url>
                                    <strong>{line.message.title}</strong>
                                    <span class="when">{l.date_time(line.local)}</span>
                                </a>
                                <p>{line.message.body}</p>
                            </li>
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}
