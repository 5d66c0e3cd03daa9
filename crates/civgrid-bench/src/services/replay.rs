//! The replay: a few hundred to a few thousand applications through the real service at past
//! instants over the last year (see the module docs of `services`).

use super::*;

/// Window code, clerk account (the demo's `clerk` exists; the others are made here) and name.
pub(super) const WINDOWS: [(&str, &str, &str); 8] = [
    ("QZ-01", "clerk", "窗口人员"),
    ("QZ-02", "clerk_qz02", "区行政服务中心综合窗口二"),
    ("QZ-03", "clerk_qz03", "区行政服务中心综合窗口三"),
    ("QZ-04", "clerk_qz04", "区行政服务中心综合窗口四"),
    ("ZM-01", "clerk_zm01", "祖庙街道便民服务中心窗口"),
    ("SW-01", "clerk_sw01", "石湾镇街道便民服务中心窗口"),
    ("ZC-01", "clerk_zc01", "张槎街道便民服务中心窗口"),
    ("NZ-01", "clerk_nz01", "南庄镇便民服务中心窗口"),
];

pub(super) const SURNAMES: [&str; 16] =
    ["陈", "李", "黄", "梁", "何", "张", "王", "林", "吴", "罗", "冯", "邓", "周", "谢", "麦", "潘"];
pub(super) const GIVEN: [&str; 16] = [
    "嘉怡", "子轩", "志明", "婉清", "伟强", "晓彤", "俊杰", "丽娟", "家豪", "淑芬", "建华", "美玲", "浩然", "雅婷",
    "国栋", "秀英",
];
pub(super) const PLACES: [&str; 8] = ["祖庙", "石湾", "张槎", "南庄", "季华", "汾江", "岭南", "澜石"];
pub(super) const TRADES: [&str; 8] = ["餐饮", "商贸", "建筑工程", "物流", "医药", "文化传播", "环保科技", "物业管理"];
/// Where residents' numbers were issued (most locally), with weights.
pub(super) const AREAS: [(&str, u32); 8] = [
    ("440604", 60),
    ("440605", 10),
    ("440606", 5),
    ("440103", 5),
    ("441302", 5),
    ("430102", 5),
    ("450102", 5),
    ("510104", 5),
];
pub(super) const CREDIT_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A generated applicant and what the replay knows the platform holds for them.
pub(super) struct Applicant {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) kind: ApplicantType,
    /// Licence types in their e-licence library, with when the first was issued.
    pub(super) licences: HashMap<String, DateTime<Utc>>,
    /// Material codes they submitted in an accepted application.
    pub(super) submitted: HashSet<String>,
}

impl Applicant {
    pub(super) fn input(&self) -> ApplicantInput {
        ApplicantInput { id_number: self.id.clone(), name: self.name.clone(), contact: None }
    }

    /// Whether the platform attaches this material by itself at `t`.
    pub(super) fn holds(&self, m: &MaterialSpec, t: DateTime<Utc>) -> bool {
        self.licenced(m, t) || (m.reusable && self.submitted.contains(&m.code))
    }

    /// Whether an e-licence issued by `t` stands in for this material.
    pub(super) fn licenced(&self, m: &MaterialSpec, t: DateTime<Utc>) -> bool {
        m.licence_type.as_ref().and_then(|l| self.licences.get(l)).is_some_and(|at| *at <= t)
    }
}

/// A valid resident ID of someone `age` years old on `today`, issued in `area`.
pub(super) fn resident(rng: &mut StdRng, area: &str, age: i64, today: NaiveDate) -> anyhow::Result<String> {
    let birth = today - Duration::days(age * 365 + age / 4 + rng.gen_range(0..365));
    let first17 = format!("{area}{}{:03}", birth.format("%Y%m%d"), rng.gen_range(1..1000));
    Ok(ResidentId::complete(&first17)?.as_str().to_owned())
}

pub(super) fn people(
    rng: &mut StdRng,
    persons: usize,
    entities: usize,
    today: NaiveDate,
) -> anyhow::Result<Vec<Applicant>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while out.len() < persons + entities {
        let (id, name, kind) = if out.len() < persons {
            // One in eight is old enough for the old-age allowance (本市户籍, 80 or more).
            let (area, age) = if rng.gen_bool(0.125) {
                ("440604", rng.gen_range(80..96))
            } else {
                (weighted(rng, &AREAS).copied().unwrap_or(DISTRICT_CODE), rng.gen_range(18..80))
            };
            let name = format!("{}{}", SURNAMES[rng.gen_range(0..16)], GIVEN[rng.gen_range(0..16)]);
            (resident(rng, area, age, today)?, name, ApplicantType::Person)
        } else {
            let org: String = (0..9).map(|_| CREDIT_CHARS[rng.gen_range(0..CREDIT_CHARS.len())] as char).collect();
            let code = CreditCode::complete(&format!("91{DISTRICT_CODE}{org}"))?.as_str().to_owned();
            let name = format!("佛山市禅城区{}{}有限公司", PLACES[rng.gen_range(0..8)], TRADES[rng.gen_range(0..8)]);
            (code, name, ApplicantType::Entity)
        };
        if seen.insert(id.clone()) {
            out.push(Applicant { id, name, kind, licences: HashMap::new(), submitted: HashSet::new() });
        }
    }
    Ok(out)
}

/// A small file whose first bytes prove `format` (what the service checks), different per `text`.
pub(super) fn sample_file(format: &str, text: &str) -> Vec<u8> {
    let head: &[u8] = match format {
        "pdf" => b"%PDF-1.4\n% ",
        "png" => &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A],
        "jpg" => &[0xFF, 0xD8, 0xFF, 0xE0],
        _ => b"PK\x03\x04",
    };
    let mut b = head.to_vec();
    b.extend_from_slice(text.as_bytes());
    b.extend_from_slice(b"\n%%EOF\n");
    b
}

/// An electronic material for `spec`, in the first format it accepts (PDF when it can).
pub(super) fn material(spec: &MaterialSpec, text: &str) -> MaterialInput {
    let format = if spec.formats.iter().any(|f| f == "pdf") { "pdf" } else { spec.formats[0].as_str() };
    MaterialInput {
        code: spec.code.clone(),
        medium: None,
        format: Some(format.to_owned()),
        content_base64: Some(base64::engine::general_purpose::STANDARD.encode(sample_file(format, text))),
        copies: None,
    }
}

/// Every criterion `department` checks in `step` of `item`, met — or the first one not met.
pub(super) fn checklist(item: &ServiceItem, step: usize, department: &str, approve: bool) -> Vec<CheckInput> {
    item.spec.steps[step]
        .checklist_for(department)
        .enumerate()
        .map(|(i, c)| CheckInput {
            code: c.code.clone(),
            met: approve || i > 0,
            note: (!approve && i == 0).then(|| "经核查与实际情况不符".to_owned()),
        })
        .collect()
}

/// The demo's accounts by username, to act as them.
pub(super) struct Accounts<'a> {
    pub(super) staff: &'a civgrid::staff::Staff,
    pub(super) ids: HashMap<String, i64>,
}

impl<'a> Accounts<'a> {
    pub(super) async fn load(staff: &'a civgrid::staff::Staff) -> anyhow::Result<Accounts<'a>> {
        let ids = staff.list().await?.into_iter().map(|s| (s.staff.username.clone(), s.staff.id)).collect();
        Ok(Accounts { staff, ids })
    }

    pub(super) async fn principal(&self, username: &str) -> anyhow::Result<Principal> {
        let id = self.ids.get(username).ok_or_else(|| anyhow::anyhow!("demo account {username} is missing"))?;
        Ok(self.staff.demo_principal(*id).await?)
    }
}

/// Everyone the replay acts as, and the clock.
pub(super) struct Replay<'a> {
    pub(super) state: &'a AppState,
    pub(super) calendar: Calendar,
    pub(super) now: DateTime<Utc>,
    pub(super) rng: StdRng,
    pub(super) items: Vec<ServiceItem>,
    pub(super) windows: Vec<(String, Principal)>,
    pub(super) approvers: HashMap<String, Principal>,
    pub(super) admin: Principal,
    pub(super) people: Vec<Applicant>,
    pub(super) summary: ReplaySummary,
}

/// Replays `count` applications through the service, accepted at instants over the year before
/// `now` and taken in that order (the same for the same `now`, but for the random notice and
/// e-licence numbers).
pub(super) async fn replay(state: &AppState, count: usize, now: DateTime<Utc>) -> anyhow::Result<ReplaySummary> {
    let mut rng = StdRng::seed_from_u64(5_440_604);
    let staff = &state.staff;
    let mut accounts = Accounts::load(staff).await?;
    let mut windows = Vec::new();
    for (window, username, name) in WINDOWS {
        if !accounts.ids.contains_key(username) {
            let id = account(staff, username, name, Some("xzfw"), Role::WindowClerk, DISTRICT_CODE).await?;
            accounts.ids.insert(username.to_owned(), id);
        }
        windows.push((window.to_owned(), accounts.principal(username).await?));
    }
    let mut approvers = HashMap::new();
    approvers.insert("scjg".to_owned(), accounts.principal("approver").await?);
    for (username, _, dept) in civgrid::demo::services::APPROVERS {
        approvers.insert(dept.to_owned(), accounts.principal(username).await?);
    }
    let today = now.with_timezone(&civgrid::demo::services::cst()).date_naive();
    let mut r = Replay {
        state,
        calendar: state.cases.calendar().await?,
        now,
        items: state.services.items().await?,
        windows,
        approvers,
        admin: accounts.principal("admin").await?,
        people: people(&mut rng, (count / 3).max(60), (count / 8).max(20), today)?,
        rng,
        summary: ReplaySummary::default(),
    };
    let mut starts: Vec<(DateTime<Utc>, bool)> = (0..count)
        .map(|_| {
            let online = r.rng.gen_bool(0.3);
            let days_ago = r.rng.gen_range(1..YEAR_DAYS);
            (r.instant(online, days_ago), online)
        })
        .collect();
    starts.sort();
    for (i, (t, online)) in starts.into_iter().enumerate() {
        r.one(online, t).await?;
        if (i + 1) % 500 == 0 {
            println!("  {} applications replayed", i + 1);
        }
    }
    Ok(r.summary)
}

/// A timestamp as the services store it (RFC 3339, milliseconds, UTC).
pub(super) fn stored_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Replay<'_> {
    /// An instant `days_ago` days back: in office hours on a working day at a window, any time
    /// online.
    pub(super) fn instant(&mut self, online: bool, days_ago: i64) -> DateTime<Utc> {
        if !online {
            return working_instant(&mut self.rng, self.now, days_ago);
        }
        self.now - Duration::days(days_ago) - Duration::minutes(self.rng.gen_range(0..1440))
    }

    /// An item and an eligible applicant for it: often someone holding an e-licence the item
    /// takes in place of a material, or someone who applied before.
    pub(super) fn choose(&mut self, at: DateTime<Utc>) -> (usize, usize) {
        let today = at.with_timezone(&civgrid::demo::services::cst()).date_naive();
        let fits = |item: &ServiceItem, a: &Applicant| {
            item.spec.applicant_type == a.kind && civgrid::demo::services::eligible(item, &a.id, today)
        };
        if self.rng.gen_bool(0.35) {
            let mut pairs = Vec::new();
            for (p, a) in self.people.iter().enumerate().filter(|(_, a)| !a.licences.is_empty()) {
                for (i, item) in self.items.iter().enumerate() {
                    if item.spec.materials.iter().any(|m| a.licenced(m, at)) && fits(item, a) {
                        pairs.push((i, p));
                    }
                }
            }
            if let Some(pair) = pick(&mut self.rng, &pairs) {
                return *pair;
            }
        }
        loop {
            let i = self.rng.gen_range(0..self.items.len());
            let returning = self.rng.gen_bool(0.4);
            let candidates: Vec<usize> = (0..self.people.len())
                .filter(|&p| fits(&self.items[i], &self.people[p]))
                .filter(|&p| !returning || !self.people[p].submitted.is_empty())
                .collect();
            if let Some(p) = pick(&mut self.rng, &candidates) {
                return (i, *p);
            }
        }
    }

    /// Hours of working time from `t`, plus some minutes.
    pub(super) fn after(&mut self, t: DateTime<Utc>, working_hours: f64) -> DateTime<Utc> {
        let jitter = Duration::minutes(self.rng.gen_range(0..60));
        self.calendar.add_working_hours(t, working_hours.max(1.0) as u32) + jitter
    }

    pub(super) async fn one(&mut self, online: bool, mut t: DateTime<Utc>) -> anyhow::Result<()> {
        let (i, p) = self.choose(t);
        let item = self.items[i].clone();
        let window = (!online).then(|| self.rng.gen_range(0..self.windows.len()));
        let at_window = |r: &Self| window.map(|w| (r.windows[w].0.clone(), r.windows[w].1.clone()));
        let services = self.state.services.at(t);
        if let (Some((code, clerk)), true) = (at_window(self), self.rng.gen_bool(0.03)) {
            let reason = "申请事项依法不需要取得行政许可".to_owned();
            let refusal =
                NewRefusal { item_code: item.code.clone(), applicant: self.people[p].input(), reason, window: code };
            services.refuse(&clerk, refusal).await?;
            self.summary.refusals += 1;
            return Ok(());
        }
        // Hand in what the platform does not hold; now and then forget one thing.
        let needed: Vec<&MaterialSpec> = item.spec.materials.iter().filter(|m| !self.people[p].holds(m, t)).collect();
        let forget = if self.rng.gen_bool(0.12) { pick(&mut self.rng, &needed).map(|m| m.code.clone()) } else { None };
        let mut codes: Vec<String> =
            needed.iter().map(|m| m.code.clone()).filter(|c| Some(c) != forget.as_ref()).collect();
        let mut accepted = None;
        for attempt in 0..2 {
            let materials = codes
                .iter()
                .filter_map(|c| item.material(c))
                .map(|m| material(m, &format!("{} {} {t}", self.people[p].id, m.code)))
                .collect();
            let request = NewApplication {
                item_code: item.code.clone(),
                applicant: self.people[p].input(),
                materials,
                window: at_window(self).map(|w| w.0),
            };
            let channel = at_window(self);
            let channel = match &channel {
                Some((_, clerk)) => Channel::Window(clerk),
                None => Channel::Online,
            };
            self.summary.submissions += 1;
            match self.state.services.at(t).submit(channel, request).await? {
                Outcome::Accepted { application, visit_number, access_key } => {
                    accepted = Some((application, visit_number, access_key));
                    break;
                }
                Outcome::MissingMaterials { notice } => {
                    anyhow::ensure!(attempt == 0, "the complete submission was refused: {:?}", notice.missing);
                    self.summary.missing_notices += 1;
                    codes.extend(notice.missing.iter().map(|m| m.code.clone()));
                    t += Duration::minutes(self.rng.gen_range(30..4320));
                    if t >= self.now {
                        return Ok(());
                    }
                }
            }
        }
        let Some((application, visit, access_key)) = accepted else { return Ok(()) };
        let number = application.application.number.clone();
        self.summary.accepted += 1;
        self.summary.online += usize::from(online);
        for m in &application.materials {
            match m.source.as_str() {
                "licence" => self.summary.materials_from_licences += 1,
                "earlier" => self.summary.materials_from_earlier += 1,
                _ => {
                    self.people[p].submitted.insert(m.code.clone());
                }
            }
        }
        if let (Some(visit), true) = (visit, self.rng.gen_bool(0.25)) {
            let at = t + Duration::minutes(self.rng.gen_range(5..30));
            if at < self.now {
                self.rate("visit", &visit, Proof::IdNumber, p, at).await?;
            }
        }
        let Some((result, concluded)) = self.decide(&item, &number, t).await? else { return Ok(()) };
        if result {
            if let Some(r) = &item.spec.result {
                self.people[p].licences.entry(r.licence_type.clone()).or_insert(concluded);
                self.summary.licences_issued += 1;
            }
        }
        if self.rng.gen_bool(0.6) {
            let at = concluded + Duration::minutes(self.rng.gen_range(60..4320));
            if at < self.now {
                self.rate("application", &number, Proof::Key(&access_key), p, at).await?;
            }
        }
        Ok(())
    }

    /// The back office: steps in turn, each department of a step at its own time, now and then a
    /// suspension for a special step or a rejection. Some(approved?, when) once concluded.
    pub(super) async fn decide(
        &mut self,
        item: &ServiceItem,
        number: &str,
        mut t: DateTime<Utc>,
    ) -> anyhow::Result<Option<(bool, DateTime<Utc>)>> {
        let steps = item.spec.steps.len();
        let reject = self.rng.gen_bool(0.07).then(|| self.rng.gen_range(0..steps));
        let budget = item.spec.promised_limit_days as f64 * 7.0 / steps as f64;
        for (s, step) in item.spec.steps.iter().enumerate() {
            if s == 0 && !item.spec.special_steps.is_empty() && self.rng.gen_bool(0.15) {
                let special =
                    item.spec.special_steps[self.rng.gen_range(0..item.spec.special_steps.len())].name.clone();
                let who = self.approvers[&step.departments[0]].clone();
                let hours = self.rng.gen_range(1.0..4.0);
                t = self.after(t, hours);
                if t >= self.now {
                    return Ok(None);
                }
                let input = SuspendInput { special_step: special, note: None };
                self.state.services.at(t).suspend(&who, number, input).await?;
                self.summary.suspensions += 1;
                let hours = self.rng.gen_range(7.0..28.0);
                t = self.after(t, hours);
                if t >= self.now {
                    return Ok(None);
                }
                self.state.services.at(t).resume(&who, number).await?;
            }
            let mut turns = Vec::new();
            for d in &step.departments {
                let share = self.rng.gen_range(0.15..1.3);
                turns.push((self.after(t, budget * share), d.clone()));
            }
            turns.sort();
            let rejecting = reject == Some(s);
            for (k, (at, dept)) in turns.iter().enumerate() {
                if *at >= self.now {
                    return Ok(None);
                }
                let approve = !(rejecting && k == 0);
                let input = DecisionInput {
                    step: s as i64,
                    decision: if approve { "approve" } else { "reject" }.into(),
                    checklist: checklist(item, s, dept, approve),
                    note: (!approve).then(|| "不符合审查要点，不予许可".to_owned()),
                };
                let who = self.approvers.get(dept).ok_or_else(|| anyhow::anyhow!("no approver of {dept}"))?;
                let view = self.state.services.at(*at).decide(who, number, input).await?;
                self.summary.decisions += 1;
                if !approve {
                    self.summary.rejected += 1;
                    return Ok(Some((false, *at)));
                }
                if view.application.state == "approved" {
                    self.summary.approved += 1;
                    return Ok(Some((true, *at)));
                }
                t = *at;
            }
        }
        anyhow::bail!("{number}: every step was approved but the application did not conclude")
    }

    /// 好差评, mostly good; a bad one is sometimes appealed by the unit and decided by the admin.
    pub(super) async fn rate(
        &mut self,
        target: &str,
        number: &str,
        proof: Proof<'_>,
        p: usize,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let grade = match self.rng.gen_range(0..100) {
            0..55 => 5,
            55..85 => 4,
            85..93 => 3,
            93..97 => 2,
            _ => 1,
        };
        let rating = NewRating {
            target: target.into(),
            number: number.into(),
            access_key: match proof {
                Proof::Key(k) => Some(k.to_owned()),
                Proof::IdNumber => None,
            },
            id_number: match proof {
                Proof::Key(_) => None,
                Proof::IdNumber => Some(self.people[p].id.clone()),
            },
            grade,
            comment: None,
        };
        let outcome = self.state.services.at(at).rate(rating).await?;
        self.summary.ratings += 1;
        let Some(task) = outcome.rectification else { return Ok(()) };
        let Some(unit) = self.approvers.get(&task.department_code).cloned() else { return Ok(()) };
        if !self.rng.gen_bool(0.25) || at + Duration::days(2) >= self.now {
            return Ok(());
        }
        let appeal = AppealInput { reason: "申请人误评：当次办理已一次办结".into() };
        self.state.services.at(at + Duration::days(1)).appeal(&unit, task.id, appeal).await?;
        let upheld = self.rng.gen_bool(0.5);
        let decision =
            AppealDecisionInput { upheld, note: if upheld { "经核实属误评" } else { "评价属实" }.into() };
        self.state.services.at(at + Duration::days(2)).decide_appeal(&self.admin, task.id, decision).await?;
        self.summary.appeals += 1;
        Ok(())
    }
}

/// How a rater proves the target is theirs: an application's access key, or (for a visit to a
/// window) the ID number shown there.
#[derive(Debug, Clone, Copy)]
pub(super) enum Proof<'a> {
    Key(&'a str),
    IdNumber,
}
