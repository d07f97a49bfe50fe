//! A push service on loopback, standing in for FCM or Mozilla's: it keeps what it is sent,
//! answers as each endpoint is told to, checks the VAPID JWT (RFC 8292) and decrypts the
//! payload (RFC 8291, aes128gcm) as a browser would, with RustCrypto rather than the
//! server's OpenSSL-backed code.

use aes_gcm::{Aes128Gcm, KeyInit, Nonce, aead::Aead};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hkdf::Hkdf;
use p256::{
    PublicKey, SecretKey,
    ecdsa::{Signature, VerifyingKey, signature::Verifier},
    elliptic_curve::sec1::ToEncodedPoint,
};
use serde_json::Value;
use sha2::Sha256;
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

/// One message as the push service received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub endpoint: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Clone, Default)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer per endpoint, in turn; 201 once they run out.
    script: Arc<Mutex<HashMap<String, Vec<u16>>>>,
}

pub struct PushService {
    pub addr: SocketAddr,
    shared: Shared,
}

impl PushService {
    pub async fn start() -> Self {
        let shared = Shared::default();
        let router = Router::new()
            .route("/push/{id}", post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        PushService { addr, shared }
    }

    pub fn endpoint(&self, id: &str) -> String {
        format!("http://{}/push/{id}", self.addr)
    }

    /// Answers the next requests to `id` with these statuses.
    pub fn script(&self, id: &str, statuses: &[u16]) {
        self.shared
            .script
            .lock()
            .unwrap()
            .insert(id.to_owned(), statuses.to_vec());
    }

    pub fn received(&self, id: &str) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|message| message.endpoint == id)
            .cloned()
            .collect()
    }

    /// Waits (up to ten seconds) until `id` has received `count` messages.
    pub async fn wait_for(&self, id: &str, count: usize) -> Vec<Received> {
        for _ in 0..100 {
            let received = self.received(id);
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "{id} received {} message(s), expected {count}",
            self.received(id).len()
        );
    }
}

async fn receive(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    shared.received.lock().unwrap().push(Received {
        endpoint: id.clone(),
        headers,
        body: body.to_vec(),
    });
    let next = shared
        .script
        .lock()
        .unwrap()
        .get_mut(&id)
        .and_then(|statuses| (!statuses.is_empty()).then(|| statuses.remove(0)));
    StatusCode::from_u16(next.unwrap_or(201)).unwrap()
}

/// A browser's side of a subscription: its key pair and authentication secret.
pub struct Browser {
    secret: SecretKey,
    pub auth: [u8; 16],
}

impl Browser {
    pub fn new(seed: u8) -> Self {
        let mut rng = argon2::password_hash::rand_core::OsRng;
        let mut auth = [seed; 16];
        argon2::password_hash::rand_core::RngCore::fill_bytes(&mut rng, &mut auth);
        Browser {
            secret: SecretKey::random(&mut rng),
            auth,
        }
    }

    fn public(&self) -> Vec<u8> {
        self.secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    pub fn p256dh(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public())
    }

    pub fn auth(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.auth)
    }

    /// Decrypts an aes128gcm push message body (one record) to the JSON the server sent.
    pub fn decrypt(&self, body: &[u8]) -> Value {
        let salt = &body[..16];
        let record_size = u32::from_be_bytes(body[16..20].try_into().unwrap());
        let id_len = body[20] as usize;
        let sender_public = &body[21..21 + id_len];
        let ciphertext = &body[21 + id_len..];
        assert!(ciphertext.len() <= record_size as usize, "one record");

        let sender = PublicKey::from_sec1_bytes(sender_public).expect("the sender's key");
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(&self.public());
        info.extend_from_slice(sender_public);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes())
            .expand(&info, &mut ikm)
            .unwrap();
        let content = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let mut key = [0u8; 16];
        content
            .expand(b"Content-Encoding: aes128gcm\0", &mut key)
            .unwrap();
        let mut nonce = [0u8; 12];
        content
            .expand(b"Content-Encoding: nonce\0", &mut nonce)
            .unwrap();
        let plain = Aes128Gcm::new(&key.into())
            .decrypt(&Nonce::from(nonce), ciphertext)
            .expect("the payload decrypts with the browser's keys");
        // The last record ends in the delimiter 0x02, then any padding zeros.
        let end = plain.iter().rposition(|byte| *byte != 0).unwrap();
        assert_eq!(plain[end], 2, "the last record's delimiter");
        serde_json::from_slice(&plain[..end]).expect("the payload is JSON")
    }
}

/// Checks the `Authorization: vapid t=<JWT>, k=<key>` header against the server's public key
/// and the endpoint's origin; returns the JWT's claims.
pub fn check_vapid(headers: &HeaderMap, server_key: &str, origin: &str) -> Value {
    let authorization = headers
        .get("authorization")
        .expect("an Authorization header")
        .to_str()
        .unwrap();
    let fields: HashMap<&str, &str> = authorization
        .strip_prefix("vapid ")
        .expect("the vapid scheme")
        .split(',')
        .filter_map(|part| part.trim().split_once('='))
        .collect();
    assert_eq!(fields["k"], server_key, "the key the server published");
    let jwt = fields["t"];
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    let (header, claims) = signed.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    let key = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(fields["k"]).unwrap()).unwrap();
    let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
    key.verify(signed.as_bytes(), &signature)
        .expect("the JWT is signed by the VAPID key");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(claims["aud"], origin);
    let now = chrono::Utc::now().timestamp();
    let exp = claims["exp"].as_i64().expect("an expiry");
    assert!(
        exp > now && exp <= now + 24 * 3600,
        "exp within a day: {exp}"
    );
    assert!(
        claims["sub"]
            .as_str()
            .is_some_and(|sub| sub.starts_with("mailto:") || sub.starts_with("https:")),
        "{claims}"
    );
    claims
}
