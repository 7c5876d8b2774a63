//! The S3 [`MediaStore`] (AWS, or any S3-compatible server via `S3_ENDPOINT`), on
//! `object_store`. Clients fetch objects straight from the bucket with presigned GET URLs; the
//! URL carries `response-content-type` / `response-content-disposition` /
//! `response-cache-control` (signed, so they cannot be altered), which makes S3 answer with the
//! same type and disposition the local serving path sets. The same headers are also stored with
//! each object at PUT, for S3-compatible servers that ignore the `response-*` overrides (s3s-fs
//! does) and for anything that reads the bucket without our URLs.

use super::local::valid_key;
use crate::config::Config;
use async_trait::async_trait;
use futures_util::StreamExt;
use justus_core::media::{MediaStore, PortError, ServeHeaders};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::signer::{SignedUrlOptions, Signer};
use object_store::{Attribute, Attributes, ClientOptions, ObjectStore, ObjectStoreExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

pub struct S3MediaStore {
    store: Arc<AmazonS3>,
    bucket: String,
}

impl S3MediaStore {
    pub fn from_config(config: &Config, bucket: &str) -> anyhow::Result<Self> {
        crate::tls::install_crypto_provider();
        let mut client = ClientOptions::new().with_timeout(Duration::from_secs(60));
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&config.s3.region);
        if let Some(endpoint) = &config.s3.endpoint {
            // Self-hosted S3 servers are usually addressed by path, often over plain HTTP on a
            // private network.
            client = client.with_allow_http(endpoint.scheme() == "http");
            builder = builder
                .with_endpoint(endpoint.as_str().trim_end_matches('/'))
                .with_virtual_hosted_style_request(false);
        }
        if config.s3.access_key_id.is_some() != config.s3.secret_access_key.is_some() {
            anyhow::bail!("set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither");
        }
        if let Some(id) = &config.s3.access_key_id {
            builder = builder.with_access_key_id(id.expose());
        }
        if let Some(secret) = &config.s3.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose());
        }
        let store = builder
            .with_client_options(client)
            .build()
            .map_err(|e| anyhow::anyhow!("invalid S3 configuration: {e}"))?;
        Ok(Self {
            store: Arc::new(store),
            bucket: bucket.to_owned(),
        })
    }

    fn path(&self, key: &str) -> Result<ObjectPath, PortError> {
        if !valid_key(key) {
            return Err(PortError(format!("invalid storage key {key:?}")));
        }
        ObjectPath::parse(key).map_err(s3)
    }
}

fn s3(e: impl std::fmt::Display) -> PortError {
    PortError(format!("s3 media store: {e}"))
}

#[async_trait]
impl MediaStore for S3MediaStore {
    async fn put(&self, key: &str, file: &Path, headers: &ServeHeaders) -> Result<(), PortError> {
        let path = self.path(key)?;
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, headers.content_type.clone().into());
        attributes.insert(
            Attribute::ContentDisposition,
            headers.content_disposition.clone().into(),
        );
        attributes.insert(
            Attribute::CacheControl,
            headers.cache_control.clone().into(),
        );
        // Small files go up in one PUT, large ones as a multipart upload, without holding the
        // whole file in memory.
        let mut src = tokio::fs::File::open(file).await.map_err(s3)?;
        let store: Arc<dyn ObjectStore> = self.store.clone();
        let mut dest = BufWriter::new(store, path).with_attributes(attributes);
        if let Err(e) = tokio::io::copy(&mut src, &mut dest).await {
            let _ = dest.abort().await;
            return Err(s3(e));
        }
        dest.shutdown().await.map_err(s3)
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(s3(e)),
        }
    }

    async fn presigned_get(
        &self,
        key: &str,
        ttl: Duration,
        headers: &ServeHeaders,
    ) -> Result<Option<String>, PortError> {
        let path = self.path(key)?;
        let opts = SignedUrlOptions::new().with_query([
            ("response-content-type", headers.content_type.as_str()),
            (
                "response-content-disposition",
                headers.content_disposition.as_str(),
            ),
            ("response-cache-control", headers.cache_control.as_str()),
        ]);
        let url = self
            .store
            .signed_url_opts(http::Method::GET, &path, ttl, &opts)
            .await
            .map_err(s3)?;
        Ok(Some(url.into()))
    }

    fn local_path(&self, _key: &str) -> Option<std::path::PathBuf> {
        None
    }

    async fn fetch_to(&self, key: &str, dest: &Path) -> Result<(), PortError> {
        use tokio::io::AsyncWriteExt;
        let got = self.store.get(&self.path(key)?).await.map_err(s3)?;
        let mut out = tokio::fs::File::create(dest)
            .await
            .map_err(|e| PortError(format!("cannot create {}: {e}", dest.display())))?;
        let mut body = got.into_stream();
        while let Some(chunk) = body.next().await {
            out.write_all(&chunk.map_err(s3)?)
                .await
                .map_err(|e| PortError(format!("cannot write {}: {e}", dest.display())))?;
        }
        out.flush()
            .await
            .map_err(|e| PortError(format!("cannot write {}: {e}", dest.display())))
    }

    /// Lists (at most) one key of the bucket: fails when the bucket is missing, the endpoint
    /// unreachable or the credentials wrong.
    async fn ping(&self) -> Result<(), PortError> {
        let mut listing = self.store.list(None);
        match listing.next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(PortError(format!(
                "s3 media store: bucket {:?}: {e}",
                self.bucket
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::S3MediaStore;
    use crate::config::{Config, Secret};

    #[test]
    fn keys_come_in_pairs() {
        let mut c = Config::defaults();
        c.s3.bucket = Some("media".into());
        c.s3.access_key_id = Some(Secret::new("AKIDEXAMPLE"));
        let err = S3MediaStore::from_config(&c, "media")
            .err()
            .expect("half a key pair is refused")
            .to_string();
        assert!(err.contains("S3_SECRET_ACCESS_KEY"), "{err}");
        c.s3.secret_access_key = Some(Secret::new("secret"));
        c.s3.endpoint = Some("http://127.0.0.1:9".parse().unwrap());
        assert!(S3MediaStore::from_config(&c, "media").is_ok());
    }
}
