//! `Debug` of the settings, written by hand so that a URL's password (`http://u:pw@gpu:11434`, a
//! proxy's `http://user:pass@proxy:3128`) never reaches a log: every URL goes through
//! [`redact_url`]. Each impl destructures its struct, so a new field does not compile until it
//! is listed here.

use std::fmt;

use tradia_core::redact_url;

use super::{BackendSettings, LlmArgs, LlmSettings};

/// A comma-separated list of URLs with each redacted.
fn redact_list(raw: &str) -> String {
    raw.split(',').map(|part| redact_url(part.trim())).collect::<Vec<_>>().join(",")
}

fn redact_opt(url: &Option<String>) -> Option<String> {
    url.as_deref().map(redact_url)
}

impl fmt::Debug for LlmArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let LlmArgs {
            engine,
            ollama_base_url,
            ollama_model,
            ollama_timeout,
            ollama_max_retries,
            ollama_api_key,
            llm_auth,
            llm_ca_bundle,
            http_proxy,
            https_proxy,
            no_proxy,
            batch_size,
            batching,
            openai_base_url,
            openai_api_key,
            openai_model,
            slots,
            num_ctx,
            max_segment_chars,
        } = self;
        f.debug_struct("LlmArgs")
            .field("engine", engine)
            .field("ollama_base_url", &redact_list(ollama_base_url))
            .field("ollama_model", ollama_model)
            .field("ollama_timeout", ollama_timeout)
            .field("ollama_max_retries", ollama_max_retries)
            .field("ollama_api_key", ollama_api_key)
            .field("llm_auth", llm_auth)
            .field("llm_ca_bundle", llm_ca_bundle)
            .field("http_proxy", &redact_opt(http_proxy))
            .field("https_proxy", &redact_opt(https_proxy))
            .field("no_proxy", no_proxy)
            .field("batch_size", batch_size)
            .field("batching", batching)
            .field("openai_base_url", &redact_list(openai_base_url))
            .field("openai_api_key", openai_api_key)
            .field("openai_model", openai_model)
            .field("slots", slots)
            .field("num_ctx", num_ctx)
            .field("max_segment_chars", max_segment_chars)
            .finish()
    }
}

impl fmt::Debug for BackendSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let BackendSettings { kind, base_url, api_key, auth } = self;
        f.debug_struct("BackendSettings")
            .field("kind", kind)
            .field("base_url", &redact_url(base_url))
            .field("api_key", api_key)
            .field("auth", auth)
            .finish()
    }
}

impl fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let LlmSettings {
            kind,
            backends,
            model,
            timeout,
            max_retries,
            retry_base_delay,
            batch_size,
            slots,
            num_ctx,
            output_budget,
            max_segment_chars,
            ca_pem,
            http_proxy,
            https_proxy,
            no_proxy,
            temperature,
            repeat_penalty,
            frequency_penalty,
            breaker_threshold,
            breaker_cooldown,
            breaker_max_cooldown,
        } = self;
        f.debug_struct("LlmSettings")
            .field("kind", kind)
            .field("backends", backends)
            .field("model", model)
            .field("timeout", timeout)
            .field("max_retries", max_retries)
            .field("retry_base_delay", retry_base_delay)
            .field("batch_size", batch_size)
            .field("slots", slots)
            .field("num_ctx", num_ctx)
            .field("output_budget", output_budget)
            .field("max_segment_chars", max_segment_chars)
            .field("ca_pem", &ca_pem.as_ref().map(|pem| format!("{} bytes", pem.len())))
            .field("http_proxy", &redact_opt(http_proxy))
            .field("https_proxy", &redact_opt(https_proxy))
            .field("no_proxy", no_proxy)
            .field("temperature", temperature)
            .field("repeat_penalty", repeat_penalty)
            .field("frequency_penalty", frequency_penalty)
            .field("breaker_threshold", breaker_threshold)
            .field("breaker_cooldown", breaker_cooldown)
            .field("breaker_max_cooldown", breaker_max_cooldown)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{LlmArgs, LlmSettings};

    #[test]
    fn debug_hides_passwords_in_server_and_proxy_urls() {
        let args = LlmArgs {
            ollama_base_url: "http://u:pw-one@gpu1:11434, http://gpu2:11434".into(),
            openai_base_url: "https://api:pw-two@vllm.local/v1".into(),
            http_proxy: Some("http://user:pw-three@proxy:3128".into()),
            https_proxy: Some("http://proxy:3128/?token=pw-four".into()),
            ..LlmArgs::default()
        };
        let settings = args.settings().unwrap();
        let openai = LlmSettings::for_openai("https://api:pw-two@vllm.local/v1", "m");
        let shown = format!("{args:?} {settings:?} {openai:?}");
        for secret in ["pw-one", "pw-two", "pw-three", "pw-four"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // What is not secret stays readable.
        assert!(shown.contains("gpu1:11434") && shown.contains("http://gpu2:11434"), "{shown}");
        assert!(shown.contains("proxy:3128") && shown.contains("vllm.local"), "{shown}");
    }
}
