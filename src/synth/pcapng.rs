//! A minimal pcapng writer (little-endian; SHB, IDB with `if_name` and nanosecond
//! `if_tsresol`, EPB), enough for generated fixtures.
//! Block layouts: draft-ietf-opsawg-pcapng §4.1 (SHB), §4.2 (IDB), §4.3 (EPB).

/// Builds a pcapng file in memory.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
    interfaces: u32,
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

impl Writer {
    /// Starts a file with one section header block.
    pub fn new() -> Self {
        let mut w = Self::default();
        let mut body = Vec::new();
        body.extend_from_slice(&0x1a2b_3c4d_u32.to_le_bytes()); // byte-order magic
        body.extend_from_slice(&1u16.to_le_bytes()); // major
        body.extend_from_slice(&0u16.to_le_bytes()); // minor
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
        let mut opts = Vec::new();
        option(&mut opts, 4, b"cleanpath gen"); // shb_userappl
        option_end(&mut opts);
        body.extend_from_slice(&opts);
        w.block(0x0a0d_0d0a, &body);
        w
    }

    /// Declares an interface with nanosecond timestamps; returns its id.
    pub fn interface(&mut self, link_type: u16, name: &str) -> u32 {
        let mut body = Vec::new();
        body.extend_from_slice(&link_type.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes()); // reserved
        body.extend_from_slice(&0u32.to_le_bytes()); // snaplen: unlimited
        let mut opts = Vec::new();
        option(&mut opts, 2, name.as_bytes()); // if_name
        option(&mut opts, 9, &[9]); // if_tsresol: 10^-9
        option_end(&mut opts);
        body.extend_from_slice(&opts);
        self.block(1, &body);
        self.interfaces += 1;
        self.interfaces - 1
    }

    /// Appends an enhanced packet block; `ts_ns` is nanoseconds since the epoch.
    pub fn packet(&mut self, iface: u32, ts_ns: u64, data: &[u8]) {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let mut body = Vec::with_capacity(20 + data.len() + 4);
        body.extend_from_slice(&iface.to_le_bytes());
        body.extend_from_slice(&((ts_ns >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts_ns as u32).to_le_bytes());
        body.extend_from_slice(&len.to_le_bytes()); // captured length
        body.extend_from_slice(&len.to_le_bytes()); // original length
        body.extend_from_slice(data);
        body.resize(body.len() + pad4(data.len()), 0);
        self.block(6, &body);
    }

    /// Returns the file's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    fn block(&mut self, ty: u32, body: &[u8]) {
        let total = u32::try_from(12 + body.len()).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&ty.to_le_bytes());
        self.buf.extend_from_slice(&total.to_le_bytes());
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(&total.to_le_bytes());
    }
}

fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
    out.resize(out.len() + pad4(value.len()), 0);
}

fn option_end(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0, 0, 0, 0]);
}
