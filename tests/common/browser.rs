//! A cookie-keeping HTTP client that does not follow redirects: signs in
//! through the real form, posts forms with their CSRF token, and uploads
//! files as a browser's multipart form does.

use std::collections::HashMap;

use super::TestServer;

pub struct Browser {
    client: reqwest::Client,
    base: String,
    pub cookies: HashMap<String, String>,
}

/// What a request answered: status, `Location` header (or empty), body.
pub struct Answer {
    pub status: u16,
    pub location: String,
    pub body: String,
}

impl Browser {
    pub fn new(s: &TestServer) -> Browser {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { client, base: s.base.clone(), cookies: HashMap::new() }
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for v in response.headers().get_all("set-cookie") {
            let text = v.to_str().unwrap();
            assert!(text.contains("HttpOnly") && text.contains("SameSite="), "{text}");
            let (pair, _) = text.split_once(';').unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn answer(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let r = request.header("cookie", self.cookie_header()).send().await.unwrap();
        self.keep(&r);
        let status = r.status().as_u16();
        let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        Answer { status, location, body: r.text().await.unwrap().replace("&#38;", "&amp;") }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self.client.get(format!("{}{path}", self.base));
        self.answer(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.answer(request).await
    }

    /// Posts a multipart form: text fields, then one file.
    pub async fn upload(&mut self, path: &str, fields: &[(&str, &str)], file: (&str, &str, Vec<u8>)) -> Answer {
        let (field, name, bytes) = file;
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part(field.to_owned(), reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
        let request = self.client.post(format!("{}{path}", self.base)).multipart(form);
        self.answer(request).await
    }

    /// The CSRF token in a page's first form.
    pub fn csrf(page: &str) -> String {
        let start = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
        page[start..start + page[start..].find('"').unwrap()].to_owned()
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let page = self.get("/sign-in").await;
        let csrf = Browser::csrf(&page.body);
        self.post("/sign-in", &[("csrf", &csrf), ("email", email), ("password", password)]).await
    }
}
