//! Splitting a large export into numbered chunk messages, each at most a size limit (one
//! record larger than the limit travels alone), with a `sha256:` checksum of each chunk's
//! `records` array as compact JSON, so the platform can verify what it reassembles.

use crate::message::{ChunkRef, ExportedRecord};
use sha2::{Digest, Sha256};

/// One chunk's records and its checksum.
#[derive(Debug)]
pub struct Chunk {
    pub records: Vec<ExportedRecord>,
    pub checksum: String,
}

/// Serialised size of the records as a JSON array.
pub fn json_size(records: &[ExportedRecord]) -> usize {
    serde_json::to_vec(records)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
}

/// `sha256:<hex>` of the records serialised as compact JSON.
pub fn checksum(records: &[ExportedRecord]) -> Result<String, serde_json::Error> {
    let bytes = serde_json::to_vec(records)?;
    Ok(format!("sha256:{}", hex::encode(Sha256::digest(&bytes))))
}

/// Splits records (in order) into chunks whose JSON array is at most `limit` bytes.
pub fn split(records: Vec<ExportedRecord>, limit: usize) -> Result<Vec<Chunk>, serde_json::Error> {
    let mut chunks = Vec::new();
    let mut current: Vec<ExportedRecord> = Vec::new();
    let mut size = 2; // "[]"
    for r in records {
        let len = serde_json::to_vec(&r)?.len();
        let added = len + usize::from(!current.is_empty()); // comma
        if !current.is_empty() && size + added > limit {
            let records = std::mem::take(&mut current);
            chunks.push(Chunk {
                checksum: checksum(&records)?,
                records,
            });
            size = 2;
        }
        size += len + usize::from(!current.is_empty());
        current.push(r);
    }
    if !current.is_empty() {
        chunks.push(Chunk {
            checksum: checksum(&current)?,
            records: current,
        });
    }
    Ok(chunks)
}

/// The reference the terminal result lists for a chunk.
pub fn chunk_ref(number: u32, message_id: &str, chunk: &Chunk) -> ChunkRef {
    ChunkRef {
        chunk: number,
        message_id: message_id.to_string(),
        records: u32::try_from(chunk.records.len()).unwrap_or(u32::MAX),
        checksum: chunk.checksum.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: usize, pad: usize) -> ExportedRecord {
        let mut fields = serde_json::Map::new();
        fields.insert(
            "Description".into(),
            serde_json::Value::String("x".repeat(pad)),
        );
        ExportedRecord {
            object: "Contact".into(),
            id: format!("003{i:015}"),
            fields,
        }
    }

    #[test]
    fn chunks_respect_the_limit_keep_order_and_checksum() {
        let records: Vec<_> = (0..50).map(|i| rec(i, 300)).collect();
        let chunks = split(records.clone(), 4096).unwrap();
        assert!(chunks.len() > 3);
        let mut all = Vec::new();
        for c in &chunks {
            assert!(json_size(&c.records) <= 4096, "{}", json_size(&c.records));
            assert_eq!(c.checksum, checksum(&c.records).unwrap());
            all.extend(c.records.clone());
        }
        assert_eq!(all, records);
        // Exactly at the limit is allowed: the packer fills chunks greedily.
        let first = json_size(&chunks[0].records)
            + 1
            + serde_json::to_vec(&chunks[1].records[0]).unwrap().len();
        assert!(first > 4096);
    }

    #[test]
    fn an_oversized_record_travels_alone() {
        let chunks = split(vec![rec(1, 10), rec(2, 5000), rec(3, 10)], 1024).unwrap();
        assert_eq!(
            chunks.iter().map(|c| c.records.len()).collect::<Vec<_>>(),
            [1, 1, 1]
        );
    }

    #[test]
    fn checksum_is_sha256_of_compact_json() {
        let r = vec![rec(1, 1)];
        let expected = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(serde_json::to_vec(&r).unwrap()))
        );
        assert_eq!(checksum(&r).unwrap(), expected);
    }
}
