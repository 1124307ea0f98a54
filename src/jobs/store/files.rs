//! Reading a job's files besides its record: the output (its tail, or the lines on
//! either side of an offset), the final message, the whole prompt. Every one is the
//! job's to write: each is opened as any job file is, and read with a cap.

use std::fs;
use std::io::{Read, Seek, SeekFrom};

use super::{JobStore, MAX_LAST_MESSAGE_BYTES, PROMPT_FILE};
use crate::jobs::agent::MAX_PROMPT_BYTES;
use crate::jobs::error::{JobError, Result};
use crate::jobs::output::{self, LineBlock, OutputPiece, tail};
use crate::jobs::record::id::JobId;
use crate::jobs::record::jobfile;

impl JobStore {
    /// The original's output tail: last `lines` lines, at most `chars` characters.
    pub fn tail(&self, id: &JobId, lines: usize, chars: usize) -> Result<String> {
        let path = self.output_path(id);
        tail::tail_file(&path, lines, chars).map_err(|err| JobError::io("reading", path, err))
    }

    /// How many bytes of output the job has written (0 before it wrote any).
    pub fn output_len(&self, id: &JobId) -> u64 {
        fs::metadata(self.output_path(id)).map_or(0, |meta| meta.len())
    }

    /// The output from byte `from` on, at most [`OutputPiece::MAX_BYTES`] of it, cut
    /// before a character split at the end unless the job has `finished` (then its last
    /// bytes are all there is). A `from` past the end (the file was made again) starts
    /// from its start: `from` in the piece says where it began.
    pub fn output_piece(&self, id: &JobId, from: u64, finished: bool) -> Result<OutputPiece> {
        let path = self.output_path(id);
        let failed = |err| JobError::io("reading", &path, err);
        let Some(mut file) = self.open_output(id)? else { return Ok(OutputPiece { from: 0, text: String::new(), next: 0, size: 0 }) };
        let size = file.metadata().map_err(failed)?.len();
        let from = if from > size { 0 } else { from };
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(from)).map_err(failed)?;
        (&mut file).take(OutputPiece::MAX_BYTES as u64).read_to_end(&mut bytes).map_err(failed)?;
        let whole = finished && from + bytes.len() as u64 >= size;
        let cut = if whole { bytes.len() } else { output::utf8_cut(&bytes) };
        let text = String::from_utf8_lossy(&bytes[..cut]).into_owned();
        Ok(OutputPiece { from, text, next: from + cut as u64, size })
    }

    /// The agent's final answer (`codex exec -o`), when it wrote one.
    pub fn last_message(&self, id: &JobId) -> Option<String> {
        let (bytes, _) = jobfile::read_head(&self.last_message_path(id), MAX_LAST_MESSAGE_BYTES).ok()?;
        if bytes.is_empty() {
            return None;
        }
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The whole prompt of a job whose meta holds only its start (`None` when the meta
    /// has it all). The file's name is the one this version writes, whatever the meta
    /// says. At most the longest prompt a job takes is read: a longer file was not
    /// written by codex-async, and shows its start and says that the rest is not shown.
    pub fn whole_prompt(&self, id: &JobId) -> Result<Option<String>> {
        let meta = self.read_meta(id)?;
        if meta.prompt_file.is_none() {
            return Ok(None);
        }
        let path = self.job_dir(id).join(PROMPT_FILE);
        let (bytes, cut) = jobfile::read_head(&path, MAX_PROMPT_BYTES as u64).map_err(|err| JobError::io("reading", &path, err))?;
        let mut prompt = String::from_utf8_lossy(&bytes).into_owned();
        if cut {
            prompt.push_str(&format!(
                "\n… ({PROMPT_FILE} is longer than the longest prompt a job takes, {MAX_PROMPT_BYTES} bytes: the rest is not shown)"
            ));
        }
        Ok(Some(prompt))
    }

    /// A job's output file, opened as every job file is (see [`jobfile::open`]); `None`
    /// before the job wrote any.
    pub fn open_output(&self, id: &JobId) -> Result<Option<fs::File>> {
        let path = self.output_path(id);
        jobfile::open_if_present(&path).map_err(|err| JobError::io("reading", path, err))
    }

    /// Up to `lines` lines of the job's output that end at byte `end` (for a viewer
    /// scrolling back past what it keeps).
    pub fn output_before(&self, id: &JobId, end: u64, lines: usize) -> Result<LineBlock> {
        let path = self.output_path(id);
        output::read_before(&path, end, lines).map_err(|err| JobError::io("reading", path, err))
    }

    /// Up to `lines` lines of the job's output from byte `start` on.
    pub fn output_after(&self, id: &JobId, start: u64, lines: usize) -> Result<LineBlock> {
        let path = self.output_path(id);
        output::read_after(&path, start, lines).map_err(|err| JobError::io("reading", path, err))
    }
}
