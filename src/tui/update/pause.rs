//! `p`: pause the selected running job, or resume it when it is paused.

use crate::jobs::Status;

use crate::tui::model::app::App;
use crate::tui::model::message::Effect;

impl App {
    pub(crate) fn toggle_pause(&mut self) -> Vec<Effect> {
        let Some(record) = self.selected_record() else { return Vec::new() };
        let id = record.id.clone();
        match record.meta.as_ref().map(|meta| meta.status) {
            Ok(Status::Running) => vec![Effect::SetPaused { id, paused: true }],
            Ok(Status::Paused) => vec![Effect::SetPaused { id, paused: false }],
            Ok(status) => {
                self.flash = Some(format!("job {id} is {status}: only a running job can be paused"));
                self.dirty = true;
                Vec::new()
            }
            Err(_) => Vec::new(),
        }
    }
}
