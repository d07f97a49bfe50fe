//! Getting in without the password: asking for a reset, choosing a new password with a link
//! or a code, and signing in with a phone number. Plain forms drawn on the server: they work
//! before (or without) the WebAssembly.

use super::{form_error, locale::use_locale, words::*};
use crate::api::recovery::{
    RequestPasswordReset, ResetPassword, SendSignInCode, SignInWithCode, check_reset_link,
};
use crate::domain::{messaging::mask_phone, password::MIN_PASSWORD_CHARS};
use leptos::prelude::*;
use leptos_meta::Title;

fn query(name: &str) -> Option<String> {
    leptos_router::hooks::use_query_map().with_untracked(|query| query.get(name))
}

/// `/forgot`: an e-mail address gets a link, a phone number a code (then `/reset?phone=`).
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let ask = ServerAction::<RequestPasswordReset>::new();
    let sent = query("sent").is_some() && query("__err").is_none();
    let l = use_locale();
    view! {
        <Title text=FORGOT_PASSWORD.get(l)/>
        <section class="card narrow">
            <h1>{FORGOT_PASSWORD.get(l)}</h1>
            {if sent {
                view! { <p role="status" class="saved">{RESET_SENT.get(l)}</p> }.into_any()
            } else {
                view! {
                    <p>{RESET_ASK.get(l)}</p>
                    <ActionForm action=ask>
                        <label>{EMAIL_OR_PHONE.get(l)}
                            <input type="text" name="contact" autocomplete="username" required maxlength="254"/>
                        </label>
                        <button type="submit" disabled=move || ask.pending().get()>{SEND.get(l)}</button>
                    </ActionForm>
                    {form_error(ask.value())}
                }
                .into_any()
            }}
            <p class="hint"><a href="/sign-in">{SIGN_IN.get(l)}</a></p>
        </section>
    }
}

/// The new password's two fields.
#[component]
fn NewPasswordFields() -> impl IntoView {
    let l = use_locale();
    view! {
        <label>{NEW_PASSWORD.fill(l, &[&MIN_PASSWORD_CHARS.to_string()])}
            <input type="password" name="new" autocomplete="new-password" required/>
        </label>
        <label>{NEW_PASSWORD_AGAIN.get(l)}
            <input type="password" name="confirm" autocomplete="new-password" required/>
        </label>
    }
}

/// `/reset/:token`: a link from a reset e-mail or an invitation.
#[component]
pub fn ResetWithLinkPage() -> impl IntoView {
    let token = super::route_id_named("token");
    let asked = token.clone();
    let valid = Resource::new(move || asked.clone(), check_reset_link);
    let reset = ServerAction::<ResetPassword>::new();
    let l = use_locale();
    view! {
        <Title text=CHOOSE_PASSWORD.get(l)/>
        <section class="card narrow">
            <h1>{CHOOSE_PASSWORD.get(l)}</h1>
            <Suspense fallback=move || view! { <p>{LOADING.get(l)}</p> }>
                {move || {
                    let token = token.clone();
                    Suspend::new(async move {
                        match valid.await {
                            Ok(Some(to)) => view! {
                                <p>{LINK_FOR.fill(l, &[&to])}</p>
                                <ActionForm action=reset>
                                    <input type="hidden" name="token" value=token/>
                                    <NewPasswordFields/>
                                    <button type="submit" disabled=move || reset.pending().get()>{SAVE_PASSWORD.get(l)}</button>
                                </ActionForm>
                                {form_error(reset.value())}
                            }
                            .into_any(),
                            _ => view! {
                                <p class="form-error" role="alert">{LINK_DEAD.get(l)}</p>
                                <p><a class="button" href="/forgot">{ASK_AGAIN.get(l)}</a></p>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// `/reset?phone=…`: the code sent by SMS and a new password.
#[component]
pub fn ResetWithCodePage() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let phone = query("phone").unwrap_or_default();
    let l = use_locale();
    view! {
        <Title text=CHOOSE_PASSWORD.get(l)/>
        <section class="card narrow">
            <h1>{CHOOSE_PASSWORD.get(l)}</h1>
            <p role="status">{CODE_SENT.fill(l, &[&mask_phone(&phone)])}</p>
            <ActionForm action=reset>
                <input type="hidden" name="phone" value=phone/>
                <label>{CODE.get(l)}
                    <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required/>
                </label>
                <NewPasswordFields/>
                <button type="submit" disabled=move || reset.pending().get()>{SAVE_PASSWORD.get(l)}</button>
            </ActionForm>
            {form_error(reset.value())}
            <p class="hint"><a href="/forgot">{ASK_AGAIN.get(l)}</a></p>
        </section>
    }
}

/// `/sign-in/phone`: a number, then the code sent to it.
#[component]
pub fn PhoneSignInPage() -> impl IntoView {
    let send = ServerAction::<SendSignInCode>::new();
    let check = ServerAction::<SignInWithCode>::new();
    let phone = query("phone").filter(|_| query("sent").is_some());
    let l = use_locale();
    view! {
        <Title text=SIGN_IN_WITH_PHONE.get(l)/>
        <section class="card narrow">
            <h1>{SIGN_IN_WITH_PHONE.get(l)}</h1>
            {match phone {
                Some(phone) => view! {
                    <p role="status">{CODE_SENT.fill(l, &[&mask_phone(&phone)])}</p>
                    <ActionForm action=check>
                        <input type="hidden" name="phone" value=phone/>
                        <label>{CODE.get(l)}
                            <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required/>
                        </label>
                        <button type="submit" disabled=move || check.pending().get()>{SIGN_IN.get(l)}</button>
                    </ActionForm>
                    {form_error(check.value())}
                    <p class="hint"><a href="/sign-in/phone">{OTHER_NUMBER.get(l)}</a></p>
                }
                .into_any(),
                None => view! {
                    <p>{PHONE_SIGN_IN_WHY.get(l)}</p>
                    <ActionForm action=send>
                        <label>{MOBILE_NUMBER.get(l)}
                            <input type="tel" name="phone" autocomplete="tel" required maxlength="24"/>
                        </label>
                        <button type="submit" disabled=move || send.pending().get()>{SEND_CODE.get(l)}</button>
                    </ActionForm>
                    {form_error(send.value())}
                }
                .into_any(),
            }}
            <p class="hint"><a href="/sign-in">{SIGN_IN.get(l)}</a></p>
        </section>
    }
}

/// `/reset`: with a phone number, the code form; without, the request form.
#[component]
pub fn ResetPage() -> impl IntoView {
    if query("phone").is_some() {
        view! { <ResetWithCodePage/> }.into_any()
    } else {
        view! { <ForgotPasswordPage/> }.into_any()
    }
}
