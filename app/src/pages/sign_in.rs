use super::form_error;
use crate::api::auth::SignIn;
use crate::pages::{locale::use_locale, words::*};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignInPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let l = use_locale();
    view! {
        <Title text=SIGN_IN.get(l)/>
        <section class="card narrow">
            <h1>{SIGN_IN.get(l)}</h1>
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
            <p class="hint">{NO_ACCOUNT.get(l)}</p>
            <p class="hint"><a href="/pay">{PAY_FOR_SOMEONE.get(l)}</a></p>
        </section>
    }
}
