//! Two-factor sign-in: the code after the password, and the page where staff set their
//! authenticator app up (admins also require it of all their staff). Staff pages are English.

use super::{error_view, form_error};
use crate::api::two_factor::{
    ConfirmTwoFactor, DisableTwoFactor, RequireStaffTwoFactor, SignInSecondStep, begin_two_factor,
    load_two_factor,
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignInCodePage() -> impl IntoView {
    let step = ServerAction::<SignInSecondStep>::new();
    view! {
        <Title text="Your sign-in code"/>
        <section class="card narrow">
            <h1>"Your sign-in code"</h1>
            <p>"Type the six-digit code your authenticator app shows for Prepaid."</p>
            <ActionForm action=step>
                <label>"Code"
                    <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code"
                        pattern="[0-9 ]{6,7}" maxlength="7" required autofocus/>
                </label>
                <button type="submit" disabled=move || step.pending().get()>"Sign in"</button>
            </ActionForm>
            {form_error(step.value())}
            <p class="hint"><a href="/sign-in">"Start again with your password"</a></p>
        </section>
    }
}

#[component]
pub fn TwoFactorPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let (setting_up, turned_on) = query.with_untracked(|query| {
        (
            query.get_str("setup").is_some(),
            query.get_str("on").is_some(),
        )
    });
    let status = Resource::new(|| (), |_| load_two_factor());
    let setup = Resource::new(
        move || setting_up,
        |setting_up| async move {
            match setting_up {
                true => begin_two_factor().await.map(Some),
                false => Ok(None),
            }
        },
    );
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let disable = ServerAction::<DisableTwoFactor>::new();
    let rule = ServerAction::<RequireStaffTwoFactor>::new();
    view! {
        <Title text="Two-factor sign-in"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let status = match status.await {
                    Ok(status) => status,
                    Err(error) => return error_view(error),
                };
                let setup = match setup.await {
                    Ok(setup) => setup,
                    Err(error) => return error_view(error),
                };
                let current = if !status.is_staff {
                    view! { <p>"Two-factor sign-in is for staff accounts."</p> }.into_any()
                } else if status.enabled {
                    view! {
                        {turned_on.then(|| view! {
                            <p role="status" class="saved">"Two-factor sign-in is on: from now on you type a code after your password."</p>
                        })}
                        <p>"Two-factor sign-in is " <strong>"on"</strong> " for your account."</p>
                        {if status.required {
                            view! { <p class="hint">"Your organisation requires it, so it stays on."</p> }.into_any()
                        } else {
                            view! {
                                <ActionForm action=disable>
                                    <label>"A current code, to turn it off"
                                        <input type="text" name="code" inputmode="numeric"
                                            autocomplete="one-time-code" required/>
                                    </label>
                                    <button type="submit" class="secondary">"Turn two-factor sign-in off"</button>
                                </ActionForm>
                                {form_error(disable.value())}
                            }.into_any()
                        }}
                    }.into_any()
                } else if let Some(setup) = setup {
                    view! {
                        <ol class="steps">
                            <li>"Scan this code with an authenticator app (such as Aegis, Google Authenticator or 1Password)."</li>
                        </ol>
                        <div class="qr" inner_html=setup.qr_svg></div>
                        <p class="hint">"Or type this key into the app: " <code class="secret">{setup.secret}</code></p>
                        <ol class="steps" start="2">
                            <li>"Type the six-digit code the app now shows."</li>
                        </ol>
                        <ActionForm action=confirm>
                            <label>"Code"
                                <input type="text" name="code" inputmode="numeric"
                                    autocomplete="one-time-code" required/>
                            </label>
                            <button type="submit">"Turn two-factor sign-in on"</button>
                        </ActionForm>
                        {form_error(confirm.value())}
                    }.into_any()
                } else {
                    view! {
                        {status.required.then(|| view! {
                            <p class="notice" role="alert">"Your organisation requires two-factor sign-in: set it up to go on."</p>
                        })}
                        <p>"With two-factor sign-in, your password alone is not enough: you also type a code from an app on your phone."</p>
                        <p><a class="button" href="/account/two-factor?setup">"Set up an authenticator app"</a></p>
                    }.into_any()
                };
                view! {
                    <section class="card narrow">
                        <h1>"Two-factor sign-in"</h1>
                        {current}
                    </section>
                    {status.is_admin.then(|| view! {
                        <section class="card narrow">
                            <h2>"Your organisation"</h2>
                            <ActionForm action=rule>
                                <label class="check">
                                    <input type="checkbox" name="required" value="yes"
                                        checked=status.organisation_requires/>
                                    "Require two-factor sign-in of all staff"
                                </label>
                                <button type="submit">"Save"</button>
                            </ActionForm>
                            {form_error(rule.value())}
                        </section>
                    })}
                }
                .into_any()
            })}
        </Suspense>
    }
}
