"""Demo programme of WCPP 2026: four days at the Bali International Convention Center.

Five rooms, seven tracks, 37 speakers from 21 countries, daily plenaries (the opening with the
Minister's address, the closing on day 4), 27 thematic sessions and 5 workshops in parallel
blocks of four, an MoU signing ceremony, three study visits and the breaks, all in English and
Indonesian, then published as version 1.

The Indonesian officials are named as in the news items the project grew from; the contact
people of demo partners (UNODC, ICJR, PKBI, ...) are the partner demo's fictitious contacts;
every other speaker is a fictitious person with a generic role at a real kind of body. Built
through the programme services, so the demo passes the organisers' own validation, and keyed
by names and titles, so loading it again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from app.auth.models import User
from app.auth.services import find_user_by_email
from app.demo import load_wcpp_event
from app.events.models import Event
from app.i18n.text import TranslatedText
from app.partners.services import find_partner
from app.programme import services
from app.programme.agenda import confirmed_registration, sign_up
from app.programme.models import ProgrammeSession, Room, SessionKind, Speaker, Track
from app.programme.publishing import publish_programme, versions
from app.programme.services import (
    ProgrammeError,
    RoomDetails,
    SessionDetails,
    SpeakerDetails,
    TrackDetails,
)

DEMO_ORGANISER_EMAIL = "organiser@wcpp2026.example"
DEMO_DELEGATE_EMAIL = "delegate@wcpp2026.example"
FIRST_DAY = date(2026, 4, 14)
PUBLISH_NOTE = "Demo programme of WCPP 2026."

# --- rooms and tracks -----------------------------------------------------------------------


@dataclass(frozen=True)
class DemoRoom:
    """A room of the Bali International Convention Center."""

    key: str
    name: str
    capacity: int
    floor: str
    interpretation_booth: bool = False
    accessible: bool = True


PLENARY_HALL = "hall"
DEMO_ROOMS = (
    DemoRoom(PLENARY_HALL, "Nusa Dua Hall", 1000, "Ground floor", interpretation_booth=True),
    # The largest breakout room has a mobile booth for the sessions held in Indonesian.
    DemoRoom("mengwi", "Mengwi Room", 200, "Level 1", interpretation_booth=True),
    DemoRoom("singaraja", "Singaraja Room", 150, "Level 1"),
    DemoRoom("kintamani", "Kintamani Room", 120, "Level 2"),
    DemoRoom("uluwatu", "Uluwatu Room", 80, "Level 2"),
)
THEMATIC_ROOMS = ("mengwi", "singaraja", "kintamani", "uluwatu")


@dataclass(frozen=True)
class DemoTrack:
    """A theme of the congress with its colour."""

    key: str
    en: str
    id: str
    colour: str


DEMO_TRACKS = (
    DemoTrack(
        "kuhp",
        "Community sentences under the new Criminal Code",
        "Pidana kerja sosial dan pidana pengawasan dalam KUHP baru",
        "#1f6feb",
    ),
    DemoTrack("restorative", "Restorative justice", "Keadilan restoratif", "#2da44e"),
    DemoTrack(
        "reintegration",
        "Reintegration and life after release",
        "Reintegrasi sosial dan kehidupan setelah bebas",
        "#bf8700",
    ),
    DemoTrack(
        "practice",
        "Probation officers' practice",
        "Praktik Pembimbing Kemasyarakatan",
        "#8250df",
    ),
    DemoTrack(
        "youth_women",
        "Youth and women in the justice system",
        "Anak dan perempuan dalam sistem peradilan pidana",
        "#cf222e",
    ),
    DemoTrack(
        "technology",
        "Technology in supervision",
        "Teknologi dalam pembimbingan dan pengawasan",
        "#1b7c83",
    ),
    DemoTrack(
        "partnerships",
        "Partnerships with communities",
        "Kemitraan dengan masyarakat",
        "#bc4c00",
    ),
)

# --- speakers -------------------------------------------------------------------------------

DITJENPAS = "Direktorat Jenderal Pemasyarakatan"
# Partners of the partner demo, by (name, country) as find_partner looks them up.
UNODC = ("United Nations Office on Drugs and Crime", "AT")
ICJR = ("Institute for Criminal Justice Reform", "ID")
PKBI = ("Perkumpulan Keluarga Berencana Indonesia", "ID")
UDAYANA = ("Fakultas Hukum Universitas Udayana", "ID")
POKMAS_LIPAS = ("Kelompok Masyarakat Peduli Pemasyarakatan", "ID")
SRIKANDI = ("Yayasan Srikandi Merah Putih", "ID")
BPSDM = ("Badan Pengembangan SDM Imigrasi dan Pemasyarakatan", "ID")
MITRA_SEJATI = ("PT Mitra Sejati Laksana", "ID")


@dataclass(frozen=True)
class DemoSpeaker:
    """A speaker or chair; `partner` names a partner-module organisation, else `organisation`."""

    key: str
    name: str
    honorific: str | None
    position_title: str
    country: str
    bio_en: str
    bio_id: str
    organisation: str | None = None
    partner: tuple[str, str] | None = None


DEMO_SPEAKERS = (
    # Indonesian officials named in the news items.
    DemoSpeaker(
        "agus",
        "Agus Andrianto",
        None,
        "Minister of Immigration and Corrections of the Republic of Indonesia",
        "ID",
        "Minister of Immigration and Corrections, whose ministry hosts the 7th World Congress "
        "on Probation and Parole. He opens the congress with the Minister's address.",
        "Menteri Imigrasi dan Pemasyarakatan, kementerian yang menjadi tuan rumah Kongres "
        "Dunia ke-7 tentang Probation dan Parole. Beliau membuka kongres dengan sambutan Menteri.",
        organisation="Kementerian Imigrasi dan Pemasyarakatan",
    ),
    DemoSpeaker(
        "mashudi",
        "Mashudi",
        None,
        "Director General of Corrections",
        "ID",
        "Director General of Corrections, who leads Indonesia's prisons, detention centres and "
        "probation offices (Bapas) and the directorate hosting WCPP 2026.",
        "Direktur Jenderal Pemasyarakatan, yang memimpin Lapas, Rutan dan Balai Pemasyarakatan "
        "(Bapas) di seluruh Indonesia serta direktorat jenderal tuan rumah WCPP 2026.",
        organisation=DITJENPAS,
    ),
    DemoSpeaker(
        "hilal",
        "M. Hilal",
        None,
        "Director of Information Technology and Cooperation in Corrections",
        "ID",
        "Director of Information Technology and Cooperation at Ditjenpas. Under his directorate "
        "the number of cooperation agreements grew from 17 in 2024 to 43 in October 2025.",
        "Direktur Teknologi Informasi dan Kerja Sama Pemasyarakatan. Di bawah direktoratnya, "
        "jumlah naskah kerja sama naik dari 17 pada 2024 menjadi 43 pada Oktober 2025.",
        organisation=DITJENPAS,
    ),
    DemoSpeaker(
        "rika",
        "Rika Aprianti",
        None,
        "Head of the Cooperation Sub-directorate",
        "ID",
        "Head of the Cooperation Sub-directorate at Ditjenpas, coordinating the guideline on "
        "community participation and the Sahabat Pemasyarakatan programme.",
        "Kepala Subdirektorat Kerja Sama Ditjenpas, yang mengoordinasikan penyusunan Pedoman "
        "Peran Serta Masyarakat dan Program Sahabat Pemasyarakatan.",
        organisation=DITJENPAS,
    ),
    DemoSpeaker(
        "sigit",
        "Sigit Budiyanto",
        None,
        "Head of the Sub-directorate for Client Assistance and Restorative Justice",
        "ID",
        "Heads the sub-directorate for client assistance and restorative justice, which guides "
        "probation officers in their work with clients, victims and communities.",
        "Kepala Subdirektorat Pendampingan Klien dan Upaya Keadilan Restoratif Pemasyarakatan, "
        "yang membina Pembimbing Kemasyarakatan dalam bekerja bersama klien, korban dan "
        "masyarakat.",
        organisation=DITJENPAS,
    ),
    DemoSpeaker(
        "bluri",
        "Bluri Wijaksono",
        None,
        "Head of Bapas Purwokerto",
        "ID",
        "Head of the Class II probation office in Purwokerto, Central Java, which works with "
        "the local prison on the placement and supervision of community service clients.",
        "Kepala Balai Pemasyarakatan Kelas II Purwokerto, Jawa Tengah, yang bersama Lapas "
        "setempat menyiapkan penempatan dan pengawasan klien pidana kerja sosial.",
        organisation="Balai Pemasyarakatan Kelas II Purwokerto",
    ),
    DemoSpeaker(
        "aliandra",
        "Aliandra Harahap",
        None,
        "Head of Lapas Purwokerto",
        "ID",
        "Head of the Class IIA prison in Purwokerto, an advocate of close cooperation between "
        "prisons and probation offices on humane, restorative alternatives to imprisonment.",
        "Kepala Lembaga Pemasyarakatan Kelas IIA Purwokerto, pendukung koordinasi erat antara "
        "Lapas dan Bapas dalam pidana alternatif yang humanis dan restoratif.",
        organisation="Lembaga Pemasyarakatan Kelas IIA Purwokerto",
    ),
    # Contacts of the demo partners (fictitious people).
    DemoSpeaker(
        "nadia",
        "Nadia Putri",
        None,
        "Researcher",
        "ID",
        "Researcher at the Institute for Criminal Justice Reform, working on sentencing under "
        "the new Criminal Code and on legal aid for people on community sentences.",
        "Peneliti di Institute for Criminal Justice Reform yang mendalami pemidanaan dalam KUHP "
        "baru dan bantuan hukum bagi terpidana pidana alternatif.",
        partner=ICJR,
    ),
    DemoSpeaker(
        "arif",
        "Arif Rahman",
        None,
        "National Programme Officer, Jakarta",
        "ID",
        "National programme officer at UNODC in Jakarta, supporting prison reform and "
        "alternatives to imprisonment in Indonesia.",
        "Petugas program nasional UNODC di Jakarta yang mendukung reformasi pemasyarakatan dan "
        "pidana alternatif di Indonesia.",
        partner=UNODC,
    ),
    DemoSpeaker(
        "sari",
        "Sari Handayani",
        None,
        "Reproductive Health Programme Coordinator",
        "ID",
        "Coordinates PKBI's health education and counselling for women detainees, children and "
        "correctional clients.",
        "Mengoordinasikan pendidikan kesehatan dan konseling PKBI bagi tahanan perempuan, anak "
        "dan klien Pemasyarakatan.",
        partner=PKBI,
    ),
    DemoSpeaker(
        "ayu",
        "Ni Luh Ayu Saraswati",
        "Dr",
        "Lecturer in Criminal Law",
        "ID",
        "Lecturer in criminal law at Udayana University, Bali, researching the sentencing "
        "provisions of Law 1/2023 on the Criminal Code.",
        "Dosen hukum pidana Universitas Udayana, Bali, yang meneliti ketentuan pemidanaan dalam "
        "Undang-Undang Nomor 1 Tahun 2023 tentang KUHP.",
        partner=UDAYANA,
    ),
    DemoSpeaker(
        "suardana",
        "I Made Suardana",
        None,
        "Chair of Pokmas Lipas Denpasar",
        "ID",
        "Chairs a community group that supports clients of Bapas Denpasar with work, "
        "mentoring and a place in village life after release.",
        "Ketua Pokmas Lipas yang mendampingi klien Bapas Denpasar melalui pekerjaan, "
        "pendampingan dan penerimaan di lingkungan banjar setelah bebas.",
        partner=POKMAS_LIPAS,
    ),
    DemoSpeaker(
        "maya",
        "Maya Anggraini",
        None,
        "Chair of the Foundation",
        "ID",
        "Chairs Yayasan Srikandi Merah Putih, which mentors and empowers women clients of the "
        "correctional services.",
        "Ketua Yayasan Srikandi Merah Putih yang mendampingi dan memberdayakan klien perempuan "
        "Pemasyarakatan.",
        partner=SRIKANDI,
    ),
    DemoSpeaker(
        "dewi",
        "Dewi Lestari",
        None,
        "Head of Technical Training",
        "ID",
        "Leads technical training for corrections officers and cadets at the human resources "
        "development agency of the ministry.",
        "Kepala Bidang Diklat Teknis di Badan Pengembangan SDM Imigrasi dan Pemasyarakatan, "
        "yang melatih petugas serta taruna dan taruni Pemasyarakatan.",
        partner=BPSDM,
    ),
    DemoSpeaker(
        "hendra",
        "Hendra Wijaya",
        None,
        "Director of Operations",
        "ID",
        "Runs textile production training and jobs for prisoners and former prisoners at "
        "PT Mitra Sejati Laksana, a signatory of the October 2025 agreements.",
        "Memimpin pelatihan produksi tekstil dan penyediaan kerja bagi Warga Binaan dan mantan "
        "Warga Binaan di PT Mitra Sejati Laksana, salah satu penanda tangan PKS Oktober 2025.",
        partner=MITRA_SEJATI,
    ),
    DemoSpeaker(
        "hofmann",
        "Elena Hofmann",
        None,
        "Crime Prevention and Criminal Justice Officer",
        "AT",
        "Works at UNODC in Vienna on the Tokyo Rules and the Bangkok Rules, advising states on "
        "non-custodial measures and the treatment of women offenders.",
        "Bekerja di UNODC, Wina, untuk Tokyo Rules dan Bangkok Rules, serta memberi masukan "
        "kepada negara-negara tentang tindakan non-penahanan dan perlakuan terhadap pelaku "
        "perempuan.",
        partner=UNODC,
    ),
    # Fictitious people with generic roles.
    DemoSpeaker(
        "devries",
        "Marieke de Vries",
        "Dr",
        "Policy Adviser",
        "NL",
        "Policy adviser at the Confederation of European Probation, working on European "
        "standards for community sanctions and on exchange between probation services.",
        "Penasihat kebijakan di Confederation of European Probation yang menangani standar "
        "Eropa untuk sanksi berbasis masyarakat dan pertukaran antarlayanan probation.",
        organisation="Confederation of European Probation (CEP)",
    ),
    DemoSpeaker(
        "obrien",
        "Siobhán O'Brien",
        "Ms",
        "Senior Probation Officer, Restorative Justice",
        "IE",
        "Senior probation officer who has run restorative justice conferences for adults and "
        "young people for fifteen years.",
        "Pembimbing kemasyarakatan senior yang selama lima belas tahun memfasilitasi konferensi "
        "keadilan restoratif bagi orang dewasa dan anak.",
        organisation="The Probation Service (Ireland)",
    ),
    DemoSpeaker(
        "whitfield",
        "Karen Whitfield",
        "Dr",
        "Member of the Board of Directors",
        "US",
        "Board member of the American Probation and Parole Association and a former chief "
        "probation officer, writing on caseloads and supervision standards.",
        "Anggota dewan direksi American Probation and Parole Association dan mantan kepala "
        "kantor probation, yang menulis tentang beban kasus dan standar pengawasan.",
        organisation="American Probation and Parole Association (APPA)",
    ),
    DemoSpeaker(
        "lindqvist",
        "Peter Lindqvist",
        "Mr",
        "Member of the Community Corrections Committee",
        "SE",
        "Member of ICPA's community corrections committee, formerly a regional director of "
        "probation, interested in international twinning between services.",
        "Anggota komite community corrections ICPA, sebelumnya direktur wilayah layanan "
        "probation, yang menekuni kerja sama kembar (twinning) antarnegara.",
        organisation="International Corrections and Prisons Association (ICPA)",
    ),
    DemoSpeaker(
        "carmody",
        "Helen Carmody",
        "Dr",
        "Senior Lecturer in Criminology",
        "AU",
        "Criminologist researching restorative justice conferencing and victims' experience "
        "of community sentences.",
        "Kriminolog yang meneliti konferensi keadilan restoratif dan pengalaman korban atas "
        "pidana berbasis masyarakat.",
        organisation="Griffith University",
    ),
    DemoSpeaker(
        "tran",
        "Rebecca Tran",
        "Ms",
        "Manager, Community Correctional Services",
        "AU",
        "Manages a metropolitan community corrections office and its remote reporting pilot.",
        "Mengelola kantor community corrections di wilayah metropolitan beserta uji coba "
        "pelaporan jarak jauhnya.",
        organisation="Corrections Victoria",
    ),
    DemoSpeaker(
        "tanaka",
        "Yuko Tanaka",
        "Ms",
        "Senior Probation Officer",
        "JP",
        "Probation officer working alongside Japan's volunteer probation officers (hogoshi) "
        "and trainer in motivational interviewing.",
        "Petugas probation yang bekerja bersama pembimbing sukarela Jepang (hogoshi) dan "
        "pelatih wawancara motivasional.",
        organisation="Rehabilitation Bureau, Ministry of Justice of Japan",
    ),
    DemoSpeaker(
        "lim",
        "Lim Wei Ling",
        "Dr",
        "Deputy Director, Probation and Community Rehabilitation Service",
        "SG",
        "Psychologist by training who leads risk assessment and youth programmes in "
        "Singapore's probation service.",
        "Psikolog yang memimpin asesmen risiko dan program anak di layanan probation Singapura.",
        organisation="Ministry of Social and Family Development, Singapore",
    ),
    DemoSpeaker(
        "wanjiru",
        "Grace Wanjiru",
        "Ms",
        "Senior Probation Officer",
        "KE",
        "Supervises community service orders in Nairobi and trains new probation officers.",
        "Mengawasi pelaksanaan perintah kerja sosial di Nairobi dan melatih petugas probation "
        "baru.",
        organisation="Probation and Aftercare Service, Kenya",
    ),
    DemoSpeaker(
        "gagnon",
        "Marc-André Gagnon",
        "Dr",
        "Research Manager",
        "CA",
        "Leads research on risk and needs assessment and on measuring outcomes of community "
        "supervision.",
        "Memimpin riset tentang asesmen risiko dan kebutuhan serta pengukuran hasil pengawasan "
        "berbasis masyarakat.",
        organisation="Correctional Service Canada",
    ),
    DemoSpeaker(
        "jansen",
        "Anouk Jansen",
        "Ms",
        "Probation Officer and Trainer",
        "NL",
        "Probation officer who trains colleagues in writing pre-sentence advice and in "
        "organising community service placements.",
        "Petugas probation yang melatih rekan-rekannya menyusun laporan pra-putusan dan "
        "mengatur penempatan kerja sosial.",
        organisation="Reclassering Nederland",
    ),
    DemoSpeaker(
        "ribeiro",
        "Ana Paula Ribeiro",
        "Prof",
        "Professor of Sociology of Punishment",
        "BR",
        "Sociologist studying alternative penalties in Brazil and the work of community "
        "organisations with released prisoners.",
        "Sosiolog yang meneliti penas alternativas (pidana alternatif) di Brasil dan kerja "
        "organisasi masyarakat bersama mantan narapidana.",
        organisation="Federal University of Minas Gerais",
    ),
    DemoSpeaker(
        "ndlovu",
        "Sipho Ndlovu",
        "Mr",
        "Deputy Director, Community Corrections",
        "ZA",
        "Oversees community corrections offices and the reintegration of parolees in Gauteng.",
        "Membawahi kantor-kantor community corrections dan reintegrasi klien pembebasan "
        "bersyarat di Gauteng.",
        organisation="Department of Correctional Services, South Africa",
    ),
    DemoSpeaker(
        "santos",
        "Maria Cristina Santos",
        "Ms",
        "Chief Probation and Parole Officer",
        "PH",
        "Heads a regional probation office that applies restorative justice and the "
        "therapeutic community approach.",
        "Memimpin kantor probation wilayah yang menerapkan keadilan restoratif dan pendekatan "
        "therapeutic community.",
        organisation="Parole and Probation Administration, Philippines",
    ),
    DemoSpeaker(
        "somchai",
        "Somchai Wongsawat",
        "Dr",
        "Senior Probation Officer, Electronic Monitoring Centre",
        "TH",
        "Works on electronic monitoring and on the assessment tools of Thailand's probation "
        "service.",
        "Menangani pemantauan elektronik dan instrumen asesmen di layanan probation Thailand.",
        organisation="Department of Probation, Ministry of Justice, Thailand",
    ),
    DemoSpeaker(
        "nurul",
        "Nurul Huda Ismail",
        "Dr",
        "Senior Lecturer in Criminology",
        "MY",
        "Researches women's pathways into and out of offending in Southeast Asia.",
        "Meneliti perjalanan perempuan menuju dan keluar dari tindak pidana di Asia Tenggara.",
        organisation="Universiti Kebangsaan Malaysia",
    ),
    DemoSpeaker(
        "whitaker",
        "James Whitaker",
        "Dr",
        "Head of Probation Practice Research",
        "GB",
        "Leads research on probation practice, desistance and the quality of supervision.",
        "Memimpin riset tentang praktik probation, desistance dan mutu pengawasan.",
        organisation="HM Prison and Probation Service",
    ),
    DemoSpeaker(
        "walker",
        "Aroha Walker",
        "Ms",
        "Principal Practice Adviser",
        "NZ",
        "Advises on practice with Māori whānau (families) and communities and on "
        "trauma-informed supervision.",
        "Penasihat praktik bersama whānau (keluarga) dan komunitas Māori serta pengawasan yang "
        "peka trauma.",
        organisation="Ara Poutama Aotearoa – Department of Corrections",
    ),
    DemoSpeaker(
        "park",
        "Park Ji-hoon",
        "Dr",
        "Senior Research Fellow",
        "KR",
        "Researches electronic monitoring and data-driven supervision in Korea.",
        "Meneliti pemantauan elektronik dan pengawasan berbasis data di Korea.",
        organisation="Korean Institute of Criminology and Justice",
    ),
    DemoSpeaker(
        "raman",
        "Priya Raman",
        "Dr",
        "Associate Professor of Social Work",
        "IN",
        "Social worker and researcher on children in conflict with the law and on families "
        "of prisoners.",
        "Pekerja sosial dan peneliti tentang anak yang berkonflik dengan hukum serta keluarga "
        "narapidana.",
        organisation="Tata Institute of Social Sciences",
    ),
    DemoSpeaker(
        "okonkwo",
        "Adaeze Okonkwo",
        "Ms",
        "Assistant Controller of Corrections, Non-Custodial Service",
        "NG",
        "Works on community service and other non-custodial measures since the reform of "
        "Nigeria's correctional service.",
        "Menangani kerja sosial dan tindakan non-penahanan lainnya sejak reformasi layanan "
        "pemasyarakatan Nigeria.",
        organisation="Nigerian Correctional Service",
    ),
)

# --- sessions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A congress day (1–4) and the local (WITA) start and end."""

    day: int
    start: str
    end: str

    @property
    def bounds(self) -> tuple[date, time, time]:
        """The date and wall-clock times the services take."""
        return (
            FIRST_DAY + timedelta(days=self.day - 1),
            time.fromisoformat(self.start),
            time.fromisoformat(self.end),
        )


@dataclass(frozen=True)
class DemoSession:
    """One programme item: title and abstract in both languages, where, when and who."""

    kind: SessionKind
    slot: Slot
    title_en: str
    title_id: str
    abstract_en: str | None = None
    abstract_id: str | None = None
    room: str | None = None
    track: str | None = None
    chairs: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()
    language: str = "en"
    interpretation: bool = False
    capacity: int | None = None
    requires_signup: bool = False
    location_note: str | None = None


def _break(slot: Slot, en: str, indonesian: str) -> DemoSession:
    """A coffee or lunch break for everyone, in no room."""
    return DemoSession(SessionKind.BREAK, slot, en, indonesian)


def _coffee(slot: Slot) -> DemoSession:
    """A coffee break."""
    return _break(slot, "Coffee break", "Rehat kopi")


def _lunch(slot: Slot) -> DemoSession:
    """A lunch break."""
    return _break(slot, "Lunch", "Makan siang")


def _plenary(slot: Slot, kind: SessionKind = SessionKind.PLENARY, **fields) -> DemoSession:
    """A session for everyone in the plenary hall, interpreted between both languages."""
    return DemoSession(kind, slot, room=PLENARY_HALL, interpretation=True, **fields)


# The parallel blocks of thematic sessions, four rooms each.
BLOCK_A = Slot(1, "13:30", "15:00")
BLOCK_B = Slot(1, "15:30", "17:00")
BLOCK_C = Slot(2, "10:30", "12:00")
BLOCK_D = Slot(2, "13:30", "15:00")
BLOCK_E = Slot(3, "10:30", "12:00")
BLOCK_F = Slot(3, "13:30", "15:00")
BLOCK_G = Slot(4, "10:30", "12:00")
BLOCK_H = Slot(4, "13:00", "14:30")
MORNING_PLENARY = "08:30", "10:00"
MORNING_COFFEE = "10:00", "10:30"

DAILY_BREAKS = (
    _break(
        Slot(1, "07:30", "08:30"), "Registration and welcome coffee", "Registrasi dan kopi pagi"
    ),
    *(_coffee(Slot(day, *MORNING_COFFEE)) for day in (1, 2, 3, 4)),
    _lunch(Slot(1, "12:00", "13:30")),
    _coffee(Slot(1, "15:00", "15:30")),
    _lunch(Slot(2, "12:00", "13:30")),
    _coffee(Slot(2, "15:00", "15:30")),
    _lunch(Slot(3, "12:00", "13:00")),
    _coffee(Slot(3, "15:00", "15:30")),
    _lunch(Slot(4, "12:00", "13:00")),
    _coffee(Slot(4, "14:30", "15:00")),
)

OPENING_TITLE = "Opening ceremony and the Minister's address"
MOU_TITLE = "Signing ceremony: memoranda of understanding with partners"
CLOSING_TITLE = "Closing ceremony: conclusions and the road to the 8th congress"

PLENARIES = (
    _plenary(
        Slot(1, *MORNING_PLENARY),
        SessionKind.CEREMONY,
        title_en=OPENING_TITLE,
        title_id="Upacara pembukaan dan sambutan Menteri",
        abstract_en="The 7th World Congress on Probation and Parole opens with a performance "
        "by Warga Binaan, the people in the care of Indonesia's correctional services, a "
        "welcome from the Director General of Corrections, the address of the Minister of "
        "Immigration and Corrections, and a message from the previous host city, The Hague.",
        abstract_id="Kongres Dunia ke-7 tentang Probation dan Parole dibuka dengan pertunjukan "
        "Warga Binaan, sambutan Direktur Jenderal Pemasyarakatan, sambutan Menteri Imigrasi dan "
        "Pemasyarakatan, serta pesan dari kota tuan rumah sebelumnya, Den Haag.",
        chairs=("rika",),
        speakers=("mashudi", "agus", "devries"),
        language="id",
    ),
    _plenary(
        Slot(1, "10:30", "12:00"),
        title_en="Keynote plenary: Getting smart on justice",
        title_id="Pleno utama: Getting Smart on Justice, pemidanaan yang cerdas",
        abstract_en="Prison is not the only answer to crime. Three keynotes look at what "
        "thirty-five years of the Tokyo Rules and decades of research teach about sentences "
        "served in the community: fewer people in prison, fewer new victims, and communities "
        "that take part in justice.",
        abstract_id="Penjara bukan satu-satunya jawaban atas kejahatan. Tiga pembicara utama "
        "membahas pelajaran dari tiga puluh lima tahun Tokyo Rules dan riset puluhan tahun "
        "tentang pidana yang dijalani di tengah masyarakat: lebih sedikit orang di penjara, "
        "lebih sedikit korban baru, dan masyarakat yang ikut serta dalam keadilan.",
        track="kuhp",
        chairs=("hilal",),
        speakers=("hofmann", "whitfield", "lindqvist"),
    ),
    _plenary(
        Slot(2, *MORNING_PLENARY),
        title_en="Plenary: Community-based sentences under Indonesia's new Criminal Code",
        title_id="Pleno: Pidana berbasis masyarakat dalam KUHP baru",
        abstract_en="Since 2 January 2026 Law 1/2023 on the Criminal Code lets judges impose "
        "community service and supervision instead of short prison terms, and gives probation "
        "officers (Pembimbing Kemasyarakatan) a central role. What has changed for courts, "
        "Bapas and clients in the first months?",
        abstract_id="Sejak 2 Januari 2026, Undang-Undang Nomor 1 Tahun 2023 tentang KUHP "
        "memungkinkan hakim menjatuhkan pidana kerja sosial dan pidana pengawasan sebagai "
        "pengganti pidana penjara singkat, serta memberi peran sentral kepada Pembimbing "
        "Kemasyarakatan. Apa yang berubah bagi pengadilan, Bapas dan klien pada bulan-bulan "
        "pertama?",
        track="kuhp",
        chairs=("ayu",),
        speakers=("mashudi", "nadia", "bluri"),
        language="id",
    ),
    _plenary(
        Slot(2, "15:30", "16:30"),
        SessionKind.CEREMONY,
        title_en=MOU_TITLE,
        title_id="Upacara penandatanganan nota kesepahaman dengan mitra",
        abstract_en="The Directorate General of Corrections signs memoranda of understanding "
        "with international and national partners on the exchange of probation practice, "
        "officer training and joint research, building on the 43 cooperation agreements in "
        "force since October 2025.",
        abstract_id="Direktorat Jenderal Pemasyarakatan menandatangani nota kesepahaman dengan "
        "mitra internasional dan nasional tentang pertukaran praktik pembimbingan, pelatihan "
        "petugas dan riset bersama, melanjutkan 43 naskah kerja sama yang berlaku sejak "
        "Oktober 2025.",
        track="partnerships",
        chairs=("rika",),
        speakers=("mashudi", "hilal", "hofmann", "devries"),
        language="id",
    ),
    _plenary(
        Slot(3, *MORNING_PLENARY),
        title_en="Plenary: Healing hearts — restorative justice, victims and families",
        title_id="Pleno: Memulihkan hati — keadilan restoratif, korban dan keluarga",
        abstract_en="Justice that heals puts the harm done, and those who suffered it, at its "
        "centre. Speakers from Indonesia, Australia, New Zealand and Ireland show how "
        "probation services bring victims, offenders, families and communities together.",
        abstract_id="Keadilan yang memulihkan menempatkan kerugian yang terjadi, dan mereka "
        "yang menanggungnya, sebagai pusat perhatian. Pembicara dari Indonesia, Australia, "
        "Selandia Baru dan Irlandia menunjukkan cara layanan pembimbingan mempertemukan korban, "
        "pelaku, keluarga dan masyarakat.",
        track="restorative",
        chairs=("santos",),
        speakers=("sigit", "carmody", "walker", "obrien"),
    ),
    _plenary(
        Slot(4, *MORNING_PLENARY),
        title_en="Plenary: Technology, data and the future of supervision",
        title_id="Pleno: Teknologi, data dan masa depan pengawasan",
        abstract_en="Case management systems, electronic monitoring and mobile reporting are "
        "changing how probation officers work. Where does technology support the human "
        "relationship at the heart of supervision, and where does it get in the way?",
        abstract_id="Sistem manajemen kasus, pemantauan elektronik dan pelaporan melalui "
        "ponsel mengubah cara kerja Pembimbing Kemasyarakatan. Kapan teknologi mendukung "
        "hubungan antarmanusia yang menjadi inti pengawasan, dan kapan justru menghambatnya?",
        track="technology",
        chairs=("whitaker",),
        speakers=("hilal", "park", "somchai", "gagnon"),
    ),
    _plenary(
        Slot(4, "15:00", "16:30"),
        SessionKind.CEREMONY,
        title_en=CLOSING_TITLE,
        title_id="Upacara penutupan: kesimpulan kongres dan jalan menuju kongres ke-8",
        abstract_en="The rapporteurs present the congress's conclusions, partners reflect on "
        "four days in Bali, and the Director General of Corrections closes the 7th World "
        "Congress on Probation and Parole.",
        abstract_id="Para perumus menyampaikan kesimpulan kongres, mitra menyampaikan refleksi "
        "atas empat hari di Bali, dan Direktur Jenderal Pemasyarakatan menutup Kongres Dunia "
        "ke-7 tentang Probation dan Parole.",
        chairs=("rika",),
        speakers=("hofmann", "devries", "mashudi"),
        language="id",
    ),
)

SIDE_EVENTS = (
    DemoSession(
        SessionKind.SIDE_EVENT,
        Slot(1, "19:00", "21:00"),
        "Welcome reception",
        "Resepsi penyambutan",
        "An evening of Balinese music and food for all delegates, with products made in "
        "the workshops of correctional institutions on display.",
        "Malam musik dan kuliner Bali bagi seluruh peserta, disertai pameran produk hasil "
        "kegiatan kemandirian Warga Binaan.",
        location_note="BICC Garden Terrace",
    ),
    DemoSession(
        SessionKind.SIDE_EVENT,
        Slot(3, "15:30", "17:00"),
        "Sahabat Pemasyarakatan: the guideline on community participation",
        "Sahabat Pemasyarakatan: pedoman peran serta masyarakat",
        "Law 22/2022 on Corrections asks the community to take part in corrections. The "
        "directorate presents its guideline and the Sahabat Pemasyarakatan programme, with its "
        "cooperation ambassadors (Duta Kerja Sama) at central, regional and unit level.",
        "Undang-Undang Nomor 22 Tahun 2022 tentang Pemasyarakatan mengamanatkan peran serta "
        "masyarakat. Ditjenpas memaparkan pedoman dan Program Sahabat Pemasyarakatan, dengan "
        "Duta Kerja Sama di tingkat Kantor Pusat, Kanwil dan UPT.",
        room="mengwi",
        track="partnerships",
        chairs=("rika",),
        speakers=("sigit", "suardana", "arif"),
        language="id",
        interpretation=True,
    ),
)

STUDY_VISIT_SLOT = Slot(3, "13:00", "17:00")
STUDY_VISITS = (
    DemoSession(
        SessionKind.STUDY_VISIT,
        STUDY_VISIT_SLOT,
        "Study visit: Bapas Denpasar — community service in practice",
        "Kunjungan studi: Bapas Denpasar — pelaksanaan pidana kerja sosial",
        "Meet the probation officers of Bapas Denpasar and see how clients sentenced to "
        "community service are assessed, placed and supervised. The coach leaves the BICC main "
        "lobby at 12:45.",
        "Bertemu para Pembimbing Kemasyarakatan Bapas Denpasar dan melihat cara klien pidana "
        "kerja sosial dinilai, ditempatkan dan diawasi. Bus berangkat dari lobi utama BICC "
        "pukul 12.45.",
        track="kuhp",
        capacity=35,
        requires_signup=True,
        location_note="Balai Pemasyarakatan Kelas I Denpasar",
    ),
    DemoSession(
        SessionKind.STUDY_VISIT,
        STUDY_VISIT_SLOT,
        "Study visit: Lapas Kerobokan — skills training and preparation for release",
        "Kunjungan studi: Lapas Kerobokan — pelatihan keterampilan dan persiapan bebas",
        "Visit the workshops of Bali's largest prison, where prisoners train for certified "
        "trades, and hear how release is prepared with Bapas and the community. The coach "
        "leaves the BICC main lobby at 12:45.",
        "Mengunjungi bengkel kerja Lapas terbesar di Bali, tempat Warga Binaan berlatih "
        "keterampilan bersertifikat, dan mendengar cara persiapan bebas dilakukan bersama Bapas "
        "dan masyarakat. Bus berangkat dari lobi utama BICC pukul 12.45.",
        track="reintegration",
        capacity=40,
        requires_signup=True,
        location_note="Lembaga Pemasyarakatan Kelas IIA Kerobokan, Badung",
    ),
    DemoSession(
        SessionKind.STUDY_VISIT,
        STUDY_VISIT_SLOT,
        "Study visit: the women's prison in Denpasar — health, family and work",
        "Kunjungan studi: Lapas Perempuan Denpasar — kesehatan, keluarga dan kerja",
        "See how a prison for women applies the Bangkok Rules: health care and counselling, "
        "contact with children, and work that continues after release. The coach leaves the "
        "BICC main lobby at 12:45.",
        "Melihat penerapan Bangkok Rules di Lapas Perempuan: layanan kesehatan dan konseling, "
        "hubungan dengan anak, serta pekerjaan yang berlanjut setelah bebas. Bus berangkat dari "
        "lobi utama BICC pukul 12.45.",
        track="youth_women",
        capacity=30,
        requires_signup=True,
        location_note="Lembaga Pemasyarakatan Perempuan Kelas IIA Denpasar",
    ),
)


def _thematic(
    slot: Slot, room: str, track: str, title_en: str, title_id: str, **fields
) -> DemoSession:
    """A thematic session of a parallel block."""
    return DemoSession(
        SessionKind.THEMATIC, slot, title_en, title_id, room=room, track=track, **fields
    )


def _workshop(
    slot: Slot, room: str, track: str, title_en: str, title_id: str, **fields
) -> DemoSession:
    """A hands-on workshop for a small group who sign up first."""
    return DemoSession(
        SessionKind.WORKSHOP,
        slot,
        title_en,
        title_id,
        room=room,
        track=track,
        requires_signup=True,
        **fields,
    )


PARALLEL_SESSIONS = (
    # Day 1 afternoon.
    _thematic(
        BLOCK_A,
        "mengwi",
        "kuhp",
        "From prison to community: community service orders under Law 1/2023",
        "Dari penjara ke masyarakat: pidana kerja sosial menurut UU Nomor 1 Tahun 2023",
        abstract_en="The new Criminal Code allows community service of 8 to 240 hours instead "
        "of a short prison term. An Indonesian Bapas, Nigeria and South Africa compare how "
        "orders are proposed to the court, placed and completed.",
        abstract_id="KUHP baru memungkinkan pidana kerja sosial 8 sampai 240 jam sebagai "
        "pengganti pidana penjara singkat. Bapas dari Indonesia, Nigeria dan Afrika Selatan "
        "membandingkan cara pidana ini diusulkan kepada pengadilan, ditempatkan dan "
        "dituntaskan.",
        chairs=("ayu",),
        speakers=("bluri", "okonkwo", "ndlovu"),
    ),
    _thematic(
        BLOCK_A,
        "singaraja",
        "restorative",
        "Restorative justice in practice: conferencing, mediation and victims' voices",
        "Keadilan restoratif dalam praktik: konferensi, mediasi dan suara korban",
        abstract_en="Practitioners from Ireland, Australia and Indonesia describe restorative "
        "conferences from preparation to agreement, and what victims say they need from them.",
        abstract_id="Praktisi dari Irlandia, Australia dan Indonesia menguraikan konferensi "
        "restoratif dari persiapan hingga kesepakatan, serta apa yang menurut korban mereka "
        "butuhkan.",
        chairs=("santos",),
        speakers=("carmody", "obrien", "sigit"),
    ),
    _thematic(
        BLOCK_A,
        "kintamani",
        "practice",
        "The probation officer's craft: assessment, relationships and desistance",
        "Keahlian Pembimbing Kemasyarakatan: asesmen, relasi dan desistance",
        abstract_en="Why do people stop offending, and what can a probation officer do to help? "
        "Research on desistance meets daily practice in the Netherlands, Japan and Kenya.",
        abstract_id="Mengapa orang berhenti melakukan tindak pidana, dan apa yang dapat "
        "dilakukan Pembimbing Kemasyarakatan untuk membantunya? Riset desistance bertemu praktik "
        "sehari-hari di Belanda, Jepang dan Kenya.",
        chairs=("whitaker",),
        speakers=("jansen", "tanaka", "wanjiru"),
    ),
    _workshop(
        BLOCK_A,
        "uluwatu",
        "technology",
        "Workshop: risk and needs assessment tools, hands-on with case vignettes",
        "Lokakarya: instrumen asesmen risiko dan kebutuhan, praktik dengan studi kasus",
        abstract_en="Participants score three case vignettes with a structured assessment tool "
        "and discuss where the tool and professional judgement disagree. Places are limited.",
        abstract_id="Peserta menilai tiga studi kasus dengan instrumen asesmen terstruktur dan "
        "membahas saat hasil instrumen berbeda dengan penilaian profesional. Tempat terbatas.",
        chairs=("gagnon",),
        speakers=("lim", "somchai"),
        capacity=40,
    ),
    _thematic(
        BLOCK_B,
        "mengwi",
        "youth_women",
        "Women under supervision: gender-responsive probation",
        "Perempuan dalam pengawasan: pembimbingan yang responsif gender",
        abstract_en="Most women on probation have been victims themselves and care for "
        "children. How do the Bangkok Rules translate into supervision that responds to "
        "their needs?",
        abstract_id="Sebagian besar perempuan yang menjalani pembimbingan pernah menjadi korban "
        "dan mengasuh anak. Bagaimana Bangkok Rules diterjemahkan menjadi pengawasan yang "
        "menjawab kebutuhan mereka?",
        chairs=("maya",),
        speakers=("sari", "raman", "tran"),
    ),
    _thematic(
        BLOCK_B,
        "singaraja",
        "reintegration",
        "Work after prison: employers, skills and second chances",
        "Bekerja setelah bebas: pemberi kerja, keterampilan dan kesempatan kedua",
        abstract_en="A textile company, a prison governor and a Brazilian researcher discuss "
        "training that leads to real jobs and the employers willing to offer them.",
        abstract_id="Perusahaan tekstil, kepala Lapas dan peneliti dari Brasil membahas "
        "pelatihan yang berujung pada pekerjaan nyata dan pemberi kerja yang bersedia "
        "menerima mantan Warga Binaan.",
        chairs=("dewi",),
        speakers=("hendra", "aliandra", "ribeiro"),
    ),
    _thematic(
        BLOCK_B,
        "kintamani",
        "partnerships",
        "Volunteers in probation: Japan's hogoshi and Indonesia's Pokmas Lipas",
        "Relawan dalam pembimbingan: hogoshi di Jepang dan Pokmas Lipas di Indonesia",
        abstract_en="Japan relies on tens of thousands of volunteer probation officers; "
        "Indonesia's community groups support clients in their villages; the Philippines "
        "trains volunteer probation aides. What makes volunteering in probation work?",
        abstract_id="Jepang mengandalkan puluhan ribu pembimbing sukarela; kelompok masyarakat "
        "di Indonesia mendampingi klien di desanya; Filipina melatih relawan pendamping "
        "probation. Apa kunci keberhasilan kerelawanan dalam pembimbingan?",
        chairs=("rika",),
        speakers=("tanaka", "suardana", "santos"),
    ),
    _thematic(
        BLOCK_B,
        "uluwatu",
        "technology",
        "Electronic monitoring: proportionality, privacy and practice",
        "Pemantauan elektronik: proporsionalitas, privasi dan praktik",
        abstract_en="Korea and Thailand use electronic monitoring at scale; European standards "
        "set limits. When is a tag a humane alternative to prison, and when is it punishment "
        "added on?",
        abstract_id="Korea dan Thailand menerapkan pemantauan elektronik dalam skala besar, "
        "sedangkan standar Eropa menetapkan batasannya. Kapan gelang elektronik menjadi "
        "alternatif penjara yang manusiawi, dan kapan justru menjadi hukuman tambahan?",
        chairs=("lindqvist",),
        speakers=("park", "somchai", "devries"),
    ),
    # Day 2.
    _thematic(
        BLOCK_C,
        "mengwi",
        "kuhp",
        "Community service from court decision to placement",
        "Pidana kerja sosial: dari putusan pengadilan hingga penempatan klien",
        abstract_en="A Bapas and a Lapas from Purwokerto and ICJR walk through the whole "
        "process: the social inquiry report, the judgement, placement of the client, "
        "supervision, and reporting back to the prosecutor and the court.",
        abstract_id="Bapas dan Lapas Purwokerto bersama ICJR menelusuri seluruh alurnya: "
        "penelitian kemasyarakatan, putusan, penempatan klien, pembimbingan dan pengawasan, "
        "hingga pelaporan kepada jaksa dan pengadilan.",
        chairs=("sigit",),
        speakers=("bluri", "aliandra", "nadia"),
        language="id",
        interpretation=True,
    ),
    _thematic(
        BLOCK_C,
        "singaraja",
        "youth_women",
        "Restorative justice for children: diversion and family group conferences",
        "Keadilan restoratif bagi anak: diversi dan musyawarah keluarga",
        abstract_en="Indonesia's juvenile justice law makes diversion compulsory for many "
        "offences; New Zealand pioneered family group conferences. What do children and "
        "families gain, and what are the risks?",
        abstract_id="Undang-Undang Sistem Peradilan Pidana Anak mewajibkan diversi untuk banyak "
        "tindak pidana; Selandia Baru memelopori family group conference. Apa manfaatnya bagi "
        "anak dan keluarga, dan apa risikonya?",
        chairs=("raman",),
        speakers=("walker", "lim", "ayu"),
    ),
    _thematic(
        BLOCK_C,
        "kintamani",
        "practice",
        "Caseloads, supervision standards and officer wellbeing",
        "Beban kasus, standar pengawasan dan kesejahteraan petugas",
        abstract_en="How many clients can one officer supervise well? Kenya, Australia and "
        "Canada share workload models and what they do to keep officers healthy.",
        abstract_id="Berapa banyak klien yang dapat dibimbing dengan baik oleh satu petugas? "
        "Kenya, Australia dan Kanada berbagi model beban kerja dan upaya menjaga kesehatan "
        "petugas.",
        chairs=("whitfield",),
        speakers=("wanjiru", "tran", "gagnon"),
    ),
    _workshop(
        BLOCK_C,
        "uluwatu",
        "restorative",
        "Workshop: facilitating a victim–offender dialogue",
        "Lokakarya: memfasilitasi dialog antara korban dan pelaku",
        abstract_en="Role-play in small groups: preparing both parties, opening the meeting, "
        "handling strong emotions and writing down an agreement. Places are limited.",
        abstract_id="Bermain peran dalam kelompok kecil: menyiapkan kedua pihak, membuka "
        "pertemuan, menangani emosi yang kuat dan menuliskan kesepakatan. Tempat terbatas.",
        chairs=("santos",),
        speakers=("obrien", "carmody"),
        capacity=30,
    ),
    _thematic(
        BLOCK_D,
        "mengwi",
        "partnerships",
        "Civil society as a partner: legal aid, health and family support",
        "Masyarakat sipil sebagai mitra: bantuan hukum, kesehatan dan dukungan keluarga",
        abstract_en="Three of the partners that signed agreements with Ditjenpas in October "
        "2025 explain what they bring to clients and what a good partnership with a Bapas "
        "looks like.",
        abstract_id="Tiga mitra yang menandatangani perjanjian kerja sama dengan Ditjenpas pada "
        "Oktober 2025 menjelaskan kontribusi mereka bagi klien dan seperti apa kemitraan yang "
        "baik dengan Bapas.",
        chairs=("arif",),
        speakers=("nadia", "sari", "maya"),
    ),
    _thematic(
        BLOCK_D,
        "singaraja",
        "reintegration",
        "The first 72 hours: housing, identity documents and support after release",
        "72 jam pertama: tempat tinggal, dokumen kependudukan dan dukungan setelah bebas",
        abstract_en="Without an identity card there is no job, no bank account and no health "
        "care. South Africa, the Netherlands and Brazil show how release is prepared so that "
        "nobody leaves prison with nowhere to go.",
        abstract_id="Tanpa KTP tidak ada pekerjaan, rekening bank maupun layanan kesehatan. "
        "Afrika Selatan, Belanda dan Brasil menunjukkan cara mempersiapkan pembebasan agar "
        "tidak ada yang keluar dari penjara tanpa tujuan.",
        chairs=("hofmann",),
        speakers=("ndlovu", "jansen", "ribeiro"),
    ),
    _thematic(
        BLOCK_D,
        "kintamani",
        "technology",
        "Data-driven supervision: case management systems and ethics",
        "Pengawasan berbasis data: sistem manajemen kasus dan etika",
        abstract_en="Indonesia's correctional database, Canada's offender management system "
        "and Thailand's monitoring centre: what data helps officers decide, and who may see it?",
        abstract_id="Sistem database Pemasyarakatan Indonesia, sistem manajemen pelaku di "
        "Kanada dan pusat pemantauan di Thailand: data apa yang membantu petugas mengambil "
        "keputusan, dan siapa yang boleh melihatnya?",
        chairs=("park",),
        speakers=("hilal", "gagnon", "somchai"),
    ),
    _thematic(
        BLOCK_D,
        "uluwatu",
        "youth_women",
        "Young adults in the justice system: what works between 18 and 25",
        "Dewasa muda dalam sistem peradilan pidana: apa yang berhasil pada usia 18 hingga 25",
        abstract_en="Young adults are still maturing, yet most systems treat them as adults. "
        "Japan, Nigeria and the United States present approaches designed for this age.",
        abstract_id="Dewasa muda masih dalam masa pematangan, tetapi sebagian besar sistem "
        "memperlakukan mereka sebagai orang dewasa. Jepang, Nigeria dan Amerika Serikat "
        "memaparkan pendekatan yang dirancang untuk usia ini.",
        chairs=("whitaker",),
        speakers=("tanaka", "okonkwo", "whitfield"),
    ),
    # Day 3 (the afternoon also has the study visits).
    _thematic(
        BLOCK_E,
        "mengwi",
        "kuhp",
        "Comparing alternatives: suspended sentences, fines and community service in Asia",
        "Membandingkan pidana alternatif: pidana bersyarat, denda dan kerja sosial di Asia",
        abstract_en="Malaysia, the Philippines and Indonesia compare the alternatives to "
        "imprisonment their laws offer and how often judges actually use them.",
        abstract_id="Malaysia, Filipina dan Indonesia membandingkan pidana alternatif yang "
        "tersedia dalam undang-undang masing-masing dan seberapa sering hakim benar-benar "
        "menjatuhkannya.",
        chairs=("hofmann",),
        speakers=("nurul", "santos", "arif"),
    ),
    _thematic(
        BLOCK_E,
        "singaraja",
        "practice",
        "Social inquiry reports (litmas) and the courts under the new Criminal Code",
        "Penelitian kemasyarakatan (litmas) dan pengadilan dalam KUHP baru",
        abstract_en="Judges now weigh a probation officer's social inquiry report when choosing "
        "between prison and a community sentence. Trainers, academics and practitioners "
        "discuss what makes a report useful to the court. Held in Indonesian.",
        abstract_id="Hakim kini mempertimbangkan penelitian kemasyarakatan dari Pembimbing "
        "Kemasyarakatan ketika memilih antara pidana penjara dan pidana berbasis masyarakat. "
        "Pelatih, akademisi dan praktisi membahas laporan litmas yang bermanfaat bagi "
        "pengadilan. Disampaikan dalam bahasa Indonesia.",
        chairs=("bluri",),
        speakers=("dewi", "ayu", "aliandra"),
        language="id",
    ),
    _thematic(
        BLOCK_E,
        "kintamani",
        "restorative",
        "Healing hearts: trauma-informed practice with victims and offenders",
        "Memulihkan hati: praktik yang peka trauma bagi korban dan pelaku",
        abstract_en="Many people in the justice system, on both sides, carry trauma. What "
        "changes when supervision and restorative meetings take it into account?",
        abstract_id="Banyak orang dalam sistem peradilan pidana, baik korban maupun pelaku, "
        "membawa trauma. Apa yang berubah ketika pembimbingan dan pertemuan restoratif "
        "memperhitungkannya?",
        chairs=("carmody",),
        speakers=("walker", "raman", "obrien"),
    ),
    _workshop(
        BLOCK_E,
        "uluwatu",
        "partnerships",
        "Workshop: building a local partnership plan with your community",
        "Lokakarya: menyusun rencana kemitraan lokal bersama masyarakat",
        abstract_en="Map the organisations around your office, choose two to approach and "
        "draft a first agreement, with Pokmas Lipas and a women's foundation as guides. "
        "Places are limited.",
        abstract_id="Memetakan organisasi di sekitar kantor Anda, memilih dua untuk didekati "
        "dan menyusun draf kesepakatan pertama, dipandu Pokmas Lipas dan yayasan pemberdayaan "
        "perempuan. Tempat terbatas.",
        chairs=("rika",),
        speakers=("suardana", "maya"),
        capacity=35,
    ),
    _thematic(
        BLOCK_F,
        "mengwi",
        "reintegration",
        "Faith, family and community: reintegration support beyond the state",
        "Iman, keluarga dan masyarakat: dukungan reintegrasi di luar negara",
        abstract_en="Village institutions in Bali, churches and community groups in Brazil and "
        "family networks in Kenya: who welcomes people home, and how can probation services "
        "work with them?",
        abstract_id="Banjar di Bali, gereja dan kelompok masyarakat di Brasil, serta jaringan "
        "keluarga di Kenya: siapa yang menyambut mereka pulang, dan bagaimana layanan "
        "pembimbingan dapat bekerja sama dengan mereka?",
        chairs=("ndlovu",),
        speakers=("suardana", "ribeiro", "wanjiru"),
    ),
    _thematic(
        BLOCK_F,
        "singaraja",
        "technology",
        "Remote reporting and mobile apps for probation clients",
        "Pelaporan jarak jauh dan aplikasi ponsel bagi klien pembimbingan",
        abstract_en="Clients who live far from the office can report by video call or app. "
        "Pilots from Australia, Korea and Indonesia show what works and what the officer "
        "still needs to do in person.",
        abstract_id="Klien yang tinggal jauh dari kantor dapat melapor melalui panggilan video "
        "atau aplikasi. Uji coba dari Australia, Korea dan Indonesia menunjukkan apa yang "
        "berhasil dan apa yang tetap perlu dilakukan petugas secara tatap muka.",
        chairs=("lim",),
        speakers=("tran", "park", "hilal"),
    ),
    _thematic(
        BLOCK_F,
        "kintamani",
        "youth_women",
        "Women's pathways out of offending: lessons from Asia and Africa",
        "Jalan perempuan keluar dari tindak pidana: pelajaran dari Asia dan Afrika",
        abstract_en="Research from Malaysia and Nigeria and programmes of Indonesian partners "
        "on debt, violence at home and children: the forces that pull women into offending and "
        "the support that helps them out.",
        abstract_id="Riset dari Malaysia dan Nigeria serta program mitra di Indonesia tentang "
        "utang, kekerasan dalam rumah tangga dan anak: faktor yang mendorong perempuan "
        "melakukan tindak pidana dan dukungan yang membantu mereka keluar darinya.",
        chairs=("sari",),
        speakers=("nurul", "okonkwo", "maya"),
    ),
    _thematic(
        BLOCK_F,
        "uluwatu",
        "practice",
        "Training the next generation of probation officers",
        "Melatih generasi baru Pembimbing Kemasyarakatan",
        abstract_en="The new Criminal Code needs many more trained probation officers. "
        "Training institutes from Indonesia, the Netherlands and the United States compare "
        "curricula, mentoring and continuing education.",
        abstract_id="KUHP baru membutuhkan jauh lebih banyak Pembimbing Kemasyarakatan yang "
        "terlatih. Lembaga pelatihan dari Indonesia, Belanda dan Amerika Serikat membandingkan "
        "kurikulum, pendampingan dan pendidikan berkelanjutan.",
        chairs=("dewi",),
        speakers=("jansen", "whitfield", "gagnon"),
    ),
    # Day 4.
    _thematic(
        BLOCK_G,
        "mengwi",
        "kuhp",
        "The first hundred days of the new Criminal Code",
        "Seratus hari pertama KUHP baru",
        abstract_en="The Director General, ICJR and Udayana University take stock of the first "
        "months: the sentences passed, the bottlenecks between courts, prosecutors and Bapas, "
        "and the priorities for the rest of 2026.",
        abstract_id="Direktur Jenderal Pemasyarakatan, ICJR dan Universitas Udayana menilai "
        "bulan-bulan pertama: putusan yang dijatuhkan, hambatan antara pengadilan, kejaksaan "
        "dan Bapas, serta prioritas untuk sisa tahun 2026.",
        chairs=("mashudi",),
        speakers=("sigit", "nadia", "ayu"),
        language="id",
        interpretation=True,
    ),
    _thematic(
        BLOCK_G,
        "singaraja",
        "partnerships",
        "International cooperation in probation: networks, twinning and exchange",
        "Kerja sama internasional di bidang probation: jejaring, twinning dan pertukaran",
        abstract_en="CEP, ICPA, APPA and UNODC on how services learn from each other: "
        "exchanges of staff, twinning projects and shared standards.",
        abstract_id="CEP, ICPA, APPA dan UNODC membahas cara layanan probation saling belajar: "
        "pertukaran petugas, proyek twinning dan standar bersama.",
        chairs=("devries",),
        speakers=("lindqvist", "whitfield", "hofmann"),
    ),
    _thematic(
        BLOCK_G,
        "kintamani",
        "restorative",
        "Restorative justice in prisons and on parole",
        "Keadilan restoratif di dalam Lapas dan dalam pembebasan bersyarat",
        abstract_en="Restorative work need not stop at the prison gate. Examples from Ireland, "
        "the Philippines, South Africa and Indonesia of victim awareness programmes and "
        "restorative meetings before parole.",
        abstract_id="Upaya restoratif tidak harus berhenti di gerbang penjara. Contoh dari "
        "Irlandia, Filipina, Afrika Selatan dan Indonesia tentang program penyadaran korban dan "
        "pertemuan restoratif sebelum pembebasan bersyarat.",
        chairs=("obrien",),
        speakers=("santos", "ndlovu", "aliandra"),
    ),
    _workshop(
        BLOCK_G,
        "uluwatu",
        "technology",
        "Workshop: designing client-centred digital tools",
        "Lokakarya: merancang perangkat digital yang berpusat pada klien",
        abstract_en="Sketch a reporting app together with the people who will use it: clients, "
        "officers and families. Bring a phone. Places are limited.",
        abstract_id="Merancang aplikasi pelaporan bersama para penggunanya: klien, petugas dan "
        "keluarga. Bawa ponsel Anda. Tempat terbatas.",
        chairs=("park",),
        speakers=("hilal", "tran"),
        capacity=30,
    ),
    _thematic(
        BLOCK_H,
        "mengwi",
        "youth_women",
        "Children in conflict with the law: LPKA, Bapas and families",
        "Anak yang berkonflik dengan hukum: LPKA, Bapas dan keluarga",
        abstract_en="From diversion to the special development institutions for children "
        "(LPKA): how probation officers, families and schools keep children's futures open.",
        abstract_id="Dari diversi hingga Lembaga Pembinaan Khusus Anak (LPKA): cara Pembimbing "
        "Kemasyarakatan, keluarga dan sekolah menjaga masa depan anak tetap terbuka.",
        chairs=("raman",),
        speakers=("bluri", "lim", "walker"),
    ),
    _thematic(
        BLOCK_H,
        "singaraja",
        "reintegration",
        "Measuring what matters: recidivism, desistance and wellbeing",
        "Mengukur yang penting: residivisme, desistance dan kesejahteraan",
        abstract_en="Reconviction rates tell only part of the story. Researchers from Canada, "
        "the United Kingdom, Australia and Brazil propose indicators of work, housing, health "
        "and relationships.",
        abstract_id="Angka pengulangan tindak pidana hanya menceritakan sebagian. Peneliti dari "
        "Kanada, Inggris, Australia dan Brasil mengusulkan indikator pekerjaan, tempat "
        "tinggal, kesehatan dan relasi.",
        chairs=("gagnon",),
        speakers=("whitaker", "carmody", "ribeiro"),
    ),
    _thematic(
        BLOCK_H,
        "kintamani",
        "kuhp",
        "Community service placements: working with local government and businesses",
        "Tempat kerja sosial: bekerja sama dengan pemerintah daerah dan dunia usaha",
        abstract_en="Community service needs places to serve it: public works, social "
        "services and businesses. How placements are found, agreed and kept safe, with examples "
        "from Indonesia, Nigeria and the Netherlands.",
        abstract_id="Pidana kerja sosial membutuhkan tempat pelaksanaan: fasilitas umum, "
        "layanan sosial dan dunia usaha. Cara menemukan, menyepakati dan menjaga keamanan "
        "tempat kerja sosial, dengan contoh dari Indonesia, Nigeria dan Belanda.",
        chairs=("dewi",),
        speakers=("hendra", "okonkwo", "jansen"),
    ),
    _workshop(
        BLOCK_H,
        "uluwatu",
        "practice",
        "Workshop: motivational interviewing for probation officers",
        "Lokakarya: wawancara motivasional bagi Pembimbing Kemasyarakatan",
        abstract_en="Practise open questions, reflections and summaries in pairs, and learn to "
        "respond to resistance without confrontation. Places are limited.",
        abstract_id="Berlatih berpasangan mengajukan pertanyaan terbuka, refleksi dan "
        "rangkuman, serta belajar menanggapi penolakan tanpa konfrontasi. Tempat terbatas.",
        chairs=("tanaka",),
        speakers=("wanjiru", "somchai"),
        capacity=40,
    ),
)

DEMO_SESSIONS = (*DAILY_BREAKS, *PLENARIES, *SIDE_EVENTS, *STUDY_VISITS, *PARALLEL_SESSIONS)
# The demo delegate's picks, when that account has a confirmed registration.
DELEGATE_PICKS = (
    "Workshop: facilitating a victim–offender dialogue",
    "Study visit: Bapas Denpasar — community service in practice",
)


# --- loading --------------------------------------------------------------------------------


def _load_rooms(event: Event, actor: User | None) -> tuple[dict[str, Room], int]:
    """The demo's rooms by key, the missing ones created; and how many were."""
    existing = {room.name: room for room in services.rooms(event)}
    found, created = {}, 0
    for position, demo in enumerate(DEMO_ROOMS):
        if demo.name not in existing:
            details = RoomDetails(
                name=demo.name,
                capacity=demo.capacity,
                floor=demo.floor,
                accessible=demo.accessible,
                interpretation_booth=demo.interpretation_booth,
                position=position,
            )
            existing[demo.name] = services.create_room(event, details, actor=actor)
            created += 1
        found[demo.key] = existing[demo.name]
    return found, created


def _load_tracks(event: Event, actor: User | None) -> tuple[dict[str, Track], int]:
    """The demo's tracks by key (found by English name), the missing ones created."""
    existing = {track.name.in_language("en"): track for track in services.tracks(event)}
    found, created = {}, 0
    for position, demo in enumerate(DEMO_TRACKS):
        if demo.en not in existing:
            details = TrackDetails(
                name=TranslatedText(en=demo.en, id=demo.id), colour=demo.colour, position=position
            )
            existing[demo.en] = services.create_track(event, details, actor=actor)
            created += 1
        found[demo.key] = existing[demo.en]
    return found, created


def _speaker_details(demo: DemoSpeaker) -> SpeakerDetails:
    """A demo speaker as the services take it, linked to the partner when it is loaded."""
    partner = find_partner(*demo.partner) if demo.partner else None
    return SpeakerDetails(
        name=demo.name,
        honorific=demo.honorific,
        position_title=demo.position_title,
        partner_id=partner.id if partner else None,
        # Without the partner module's entry the organisation is typed, like an organiser would.
        organisation_name=demo.organisation or (demo.partner[0] if demo.partner else None),
        country=demo.country,
        biography=TranslatedText(en=demo.bio_en, id=demo.bio_id),
        email=None,
    )


def _load_speakers(event: Event, actor: User | None) -> tuple[dict[str, Speaker], int]:
    """The demo's speakers by key (found by name), the missing ones created."""
    existing = {speaker.name: speaker for speaker in services.speakers(event)}
    found, created = {}, 0
    for demo in DEMO_SPEAKERS:
        if demo.name not in existing:
            existing[demo.name] = services.create_speaker(
                event, _speaker_details(demo), actor=actor
            )
            created += 1
        found[demo.key] = existing[demo.name]
    return found, created


def _session_details(
    demo: DemoSession,
    rooms: dict[str, Room],
    tracks: dict[str, Track],
    speakers: dict[str, Speaker],
) -> SessionDetails:
    """A demo session as the services take it."""
    day, start, end = demo.slot.bounds
    abstract = (
        TranslatedText(en=demo.abstract_en, id=demo.abstract_id) if demo.abstract_en else None
    )
    return SessionDetails(
        kind=demo.kind.value,
        title=TranslatedText(en=demo.title_en, id=demo.title_id),
        abstract=abstract,
        day=day,
        start=start,
        end=end,
        room_id=rooms[demo.room].id if demo.room else None,
        location_note=demo.location_note,
        track_id=tracks[demo.track].id if demo.track else None,
        spoken_language=demo.language,
        interpretation=demo.interpretation,
        capacity=demo.capacity,
        requires_signup=demo.requires_signup,
        chair_ids=tuple(speakers[key].id for key in demo.chairs),
        speaker_ids=tuple(speakers[key].id for key in demo.speakers),
    )


def _session_key(kind: str, title_en: str, starts: tuple[date, time] | None) -> tuple:
    """What tells demo sessions apart: the title, and for breaks (which share titles) the
    start too, so that a session an organiser has moved is not made again."""
    return (title_en, starts if kind == SessionKind.BREAK else None)


def _load_sessions(
    event: Event,
    rooms: dict[str, Room],
    tracks: dict[str, Track],
    speakers: dict[str, Speaker],
    actor: User | None,
) -> int:
    """The demo's sessions, the missing ones created; how many were."""
    existing = set()
    for session in services.event_sessions(event):
        bounds = services.local_bounds(session)
        starts = bounds[:2] if bounds else None
        existing.add(_session_key(session.kind, session.title.in_language("en"), starts))
    created = 0
    for demo in DEMO_SESSIONS:
        key = _session_key(demo.kind.value, demo.title_en, demo.slot.bounds[:2])
        if key in existing:
            continue
        services.create_session(event, _session_details(demo, rooms, tracks, speakers), actor=actor)
        existing.add(key)
        created += 1
    return created


def _publish(event: Event, actor: User | None, *, changed: bool) -> None:
    """Publish the demo programme unless it already is."""
    if not changed and versions(event):
        return
    try:
        publish_programme(event, actor=actor, note=PUBLISH_NOTE)
    except ProgrammeError as error:
        # The timetable is the one already published: nothing to do.
        if error.code != "unchanged":
            raise


def _sign_up_demo_delegate(event: Event, sessions: list[ProgrammeSession]) -> None:
    """Put two sessions in the demo delegate's agenda when that account is confirmed."""
    user = find_user_by_email(DEMO_DELEGATE_EMAIL)
    registration = confirmed_registration(event, user) if user else None
    if registration is None:
        return  # in the registration demo the account still has to pay
    by_title = {session.title.in_language("en"): session for session in sessions}
    for title in DELEGATE_PICKS:
        sign_up(registration, by_title[title].id)  # idempotent


def load_demo_programme() -> None:
    """Rooms, tracks, speakers and sessions of WCPP 2026 (missing ones only), published."""
    event = load_wcpp_event()
    organiser = find_user_by_email(DEMO_ORGANISER_EMAIL)
    rooms, new_rooms = _load_rooms(event, organiser)
    tracks, new_tracks = _load_tracks(event, organiser)
    speakers, new_speakers = _load_speakers(event, organiser)
    new_sessions = _load_sessions(event, rooms, tracks, speakers, organiser)
    _publish(event, organiser, changed=any((new_rooms, new_tracks, new_speakers, new_sessions)))
    _sign_up_demo_delegate(event, services.event_sessions(event))
