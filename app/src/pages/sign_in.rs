use super::form_error;
use crate::api::auth::SignIn;
use crate::pages::{locale::use_locale, words::*};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignInPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let l = use_locale();
    let reset = leptos_router::hooks::use_query_map()
        .with_untracked(|query| query.get_str("reset").is_some());
    view! {
        <Title text=SIGN_IN.get(l)/>
        <section class="card narrow">
            <h1>{SIGN_IN.get(l)}</h1>
            {reset.then(|| view! { <p role="status" class="saved">{RESET_DONE.get(l)}</p> })}
            <ActionForm action=sign_in>
                <label>{EMAIL.get(l)}
                    <input type="email" name="email" autocomplete="username" required/>
                </label>
                <label>{PASSWORD.get(l)}
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <button type="submit" disabled=move || sign_in.pending().get()>{SIGN_IN.get(l)}</button>
            </ActionForm>
            {form_error(sign_in.value())}
            <p class="hint"><a href="/forgot">{FORGOT_PASSWORD.get(l)}</a>" · "<a href="/sign-in/phone">{SIGN_IN_WITH_PHONE.get(l)}</a></p>
            <p class="hint">{NO_ACCOUNT.get(l)}</p>
            <p class="hint"><a href="/pay">{PAY_FOR_SOMEONE.get(l)}</a></p>
        </section>
    }
}
