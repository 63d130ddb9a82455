"""Demo agreements: the 8 PKS of 2 October 2025 and clearly-marked sample history.

Seed data, written with the models directly and keyed by reference number, so loading it
again adds nothing. The registry then counts 17 agreements signed in 2024 and 43 in all,
the figures the directorate reported in October 2025.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from app.agreements.models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementRelation,
    AgreementStatus,
    Evaluation,
    Obligation,
    ObligationStatus,
    ScopeArea,
    UnitLevel,
)
from app.auth.models import User
from app.extensions import db
from app.i18n.text import TranslatedText
from app.partners.models import Partner, PartnerKind, name_key

REGISTRY_OFFICER_EMAIL = "registry@wcpp2026.example"
DIRECTORATE = "Direktorat Teknologi Informasi dan Kerja Sama Pemasyarakatan"
SIGNING_DAY = date(2025, 10, 2)
EVALUATION_TEAM = "Tim Evaluasi Kerja Sama Ditjenpas"
SAMPLE_PREFIX = {"en": "[Sample] ", "id": "[Contoh] "}
SAMPLE_PARTNER_NOTE = "Sample data: not a real cooperation, added to make the demo registry fuller."

# Managed list of scope areas, in display order: (code, English, Indonesian).
SCOPE_AREAS = (
    ("identity_data", "Identity and population data", "Data kependudukan dan identitas"),
    ("capacity_building", "Officer capacity building", "Peningkatan kapasitas petugas"),
    (
        "entrepreneurship",
        "Entrepreneurship and job training",
        "Kewirausahaan dan pelatihan kerja",
    ),
    ("health_counselling", "Health and counselling", "Kesehatan dan konseling"),
    ("education", "Education", "Pendidikan"),
    ("food_security", "Food security", "Ketahanan pangan"),
    ("legal_aid", "Legal aid", "Bantuan hukum"),
    ("research", "Research", "Penelitian"),
    ("reintegration", "Community reintegration", "Reintegrasi sosial"),
    ("restorative_justice", "Restorative justice", "Keadilan restoratif"),
    ("community_service", "Community service", "Pidana kerja sosial"),
)


@dataclass(frozen=True)
class DemoPartner:
    """A partner the demo agreements need; found by name (or acronym) or else created."""

    name: str
    acronym: str | None
    kind: PartnerKind
    country: str = "ID"
    website: str | None = None
    sample: bool = False


PARTNERS = {
    "dukcapil": DemoPartner(
        "Direktorat Jenderal Kependudukan dan Pencatatan Sipil Kementerian Dalam Negeri",
        "Dukcapil",
        PartnerKind.GOVERNMENT,
        website="https://dukcapil.kemendagri.go.id",
    ),
    "bpsdm": DemoPartner(
        "Badan Pengembangan SDM Imigrasi dan Pemasyarakatan", "BPSDM", PartnerKind.TRAINING
    ),
    "leu_mui": DemoPartner(
        "Lembaga Ekonomi Umat Majelis Ulama Indonesia", "LEU MUI", PartnerKind.RELIGIOUS
    ),
    "pkbi": DemoPartner(
        "Perkumpulan Keluarga Berencana Indonesia",
        "PKBI",
        PartnerKind.NGO,
        website="https://pkbi.or.id",
    ),
    "mitra_sejati": DemoPartner("PT Mitra Sejati Laksana", None, PartnerKind.BUSINESS),
    "srikandi": DemoPartner("Yayasan Srikandi Merah Putih", None, PartnerKind.FOUNDATION),
    "icjr": DemoPartner(
        "Institute for Criminal Justice Reform",
        "ICJR",
        PartnerKind.NGO,
        website="https://icjr.or.id",
    ),
    "yasa": DemoPartner("CV Yasa Fortune Abadi", None, PartnerKind.BUSINESS),
    "unodc": DemoPartner(
        "United Nations Office on Drugs and Crime",
        "UNODC",
        PartnerKind.INTERNATIONAL,
        country="AT",
        website="https://www.unodc.org",
    ),
    "pokmas": DemoPartner(
        "Kelompok Masyarakat Peduli Pemasyarakatan", "Pokmas Lipas", PartnerKind.COMMUNITY_GROUP
    ),
    "banyumas": DemoPartner(
        "Pemerintah Kabupaten Banyumas", None, PartnerKind.GOVERNMENT, sample=True
    ),
    "bnn": DemoPartner("Badan Narkotika Nasional", "BNN", PartnerKind.GOVERNMENT, sample=True),
    "unsoed": DemoPartner(
        "Universitas Jenderal Soedirman", "Unsoed", PartnerKind.ACADEMIA, sample=True
    ),
    "udayana": DemoPartner(
        "Fakultas Hukum Universitas Udayana", None, PartnerKind.ACADEMIA, sample=True
    ),
    "pmi": DemoPartner("Palang Merah Indonesia", "PMI", PartnerKind.NGO, sample=True),
    "kadin": DemoPartner(
        "Kamar Dagang dan Industri Indonesia", "KADIN", PartnerKind.BUSINESS, sample=True
    ),
    "bali": DemoPartner(
        "Dinas Tenaga Kerja dan Energi Sumber Daya Mineral Provinsi Bali",
        "Disnaker ESDM Bali",
        PartnerKind.GOVERNMENT,
        sample=True,
    ),
    "koperasi_lele": DemoPartner(
        "Koperasi Lele Mandiri Sejahtera", None, PartnerKind.BUSINESS, sample=True
    ),
}


@dataclass(frozen=True)
class DemoObligation:
    """A deliverable: owed by a partner (its key) or by Ditjenpas (None)."""

    partner: str | None
    en: str
    id: str
    due_on: date
    status: ObligationStatus


@dataclass(frozen=True)
class DemoEvaluation:
    """A past evaluation, some days before the demo is loaded."""

    days_ago: int
    rating: int
    findings_en: str
    findings_id: str


@dataclass(frozen=True)
class DemoAgreement:
    """One agreement of the demo registry."""

    reference: str
    kind: AgreementKind
    signed_on: date
    level: UnitLevel
    unit: str
    parties: tuple[tuple[str, str | None], ...]  # (partner key, its reference number)
    scopes: tuple[str, ...]
    title_en: str
    title_id: str
    summary_en: str | None = None
    summary_id: str | None = None
    place: str = "Jakarta"
    years: int = 3
    ends_in_days: int | None = None  # relative to the day of loading: "expiring soon"
    status: AgreementStatus = AgreementStatus.ACTIVE
    evaluation_months: int | None = None
    evaluations: tuple[DemoEvaluation, ...] = ()
    obligations: tuple[DemoObligation, ...] = ()
    parent: str | None = None
    relation: AgreementRelation | None = None
    sample: bool = True


def _pks(number: int) -> str:
    """A Ditjenpas reference number of the 2 October 2025 signing."""
    return f"PAS-{number}.HM.05.02 TAHUN 2025"


SIGNED_2_OCTOBER_2025 = (
    DemoAgreement(
        _pks(101),
        AgreementKind.PKS,
        SIGNING_DAY,
        UnitLevel.CENTRAL,
        DIRECTORATE,
        (("dukcapil", "400.8/7215/DUKCAPIL"),),
        ("identity_data",),
        "Use of population data to verify the identities of detainees and inmates",
        "Pemanfaatan data kependudukan untuk verifikasi identitas tahanan dan Warga Binaan",
        "Correctional units check each detainee's and inmate's identity against the national "
        "population register (NIK) at admission, so that records, remissions and release "
        "documents name the right person.",
        "Unit Pemasyarakatan mencocokkan identitas setiap tahanan dan Warga Binaan dengan data "
        "kependudukan (NIK) saat penerimaan, agar catatan, remisi, dan dokumen pembebasan "
        "menyebut orang yang tepat.",
        years=5,
        evaluation_months=12,
        obligations=(
            DemoObligation(
                "dukcapil",
                "Grant correctional units access to identity verification (NIK) services",
                "Memberikan akses layanan verifikasi identitas (NIK) kepada unit Pemasyarakatan",
                date(2025, 12, 31),
                ObligationStatus.DONE,
            ),
            DemoObligation(
                None,
                "Verify the identity of every newly admitted detainee",
                "Memverifikasi identitas setiap tahanan yang baru diterima",
                date(2026, 9, 30),
                ObligationStatus.IN_PROGRESS,
            ),
        ),
        sample=False,
    ),
    DemoAgreement(
        _pks(102),
        AgreementKind.PKS,
        SIGNING_DAY,
        UnitLevel.CENTRAL,
        DIRECTORATE,
        (("bpsdm", "SDM.3-HM.05.02-118"),),
        ("capacity_building", "education"),
        "Training for corrections officers and cadets",
        "Peningkatan kapasitas petugas serta taruna dan taruni Pemasyarakatan",
        "Joint technical training for officers and field practice for corrections cadets in "
        "prisons, detention centres and probation offices.",
        "Pelatihan teknis bersama bagi petugas dan praktik lapangan taruna Pemasyarakatan di "
        "Lapas, Rutan, dan Bapas.",
        years=5,
        evaluation_months=12,
        evaluations=(
            DemoEvaluation(
                70,
                4,
                "Two training batches held; cadet placements started in six units.",
                "Dua angkatan pelatihan terlaksana; praktik taruna dimulai di enam unit.",
            ),
        ),
        obligations=(
            DemoObligation(
                "bpsdm",
                "Run two technical training batches a year for officers",
                "Menyelenggarakan dua angkatan pelatihan teknis petugas setiap tahun",
                date(2026, 12, 15),
                ObligationStatus.IN_PROGRESS,
            ),
        ),
        sample=False,
    ),
    DemoAgreement(
        _pks(103),
        AgreementKind.PKS,
        SIGNING_DAY,
        UnitLevel.CENTRAL,
        DIRECTORATE,
        (("leu_mui", "045/LEU-MUI/X/2025"),),
        ("entrepreneurship", "food_security"),
        "Entrepreneurship for inmates: catfish farming and small business coaching",
        "Kewirausahaan bagi Warga Binaan: budidaya lele dan pendampingan usaha",
        "Business coaching, catfish farming and help with halal certification for products "
        "made by inmates.",
        "Pendampingan usaha, budidaya lele, dan bantuan sertifikasi halal bagi produk karya "
        "Warga Binaan.",
        years=5,
        evaluation_months=6,
        evaluations=(
            DemoEvaluation(
                215,
                3,
                "Fish ponds built in three prisons; coaching sessions behind schedule.",
                "Kolam lele dibangun di tiga Lapas; pendampingan usaha tertinggal dari jadwal.",
            ),
        ),
        obligations=(
            DemoObligation(
                "leu_mui",
                "Coach inmate business groups monthly",
                "Mendampingi kelompok usaha Warga Binaan setiap bulan",
                date(2026, 6, 30),
                ObligationStatus.IN_PROGRESS,
            ),
        ),
        sample=False,
    ),
    DemoAgreement(
        _pks(104),
        AgreementKind.PKS,
        SIGNING_DAY,
        UnitLevel.CENTRAL,
        DIRECTORATE,
        (("pkbi", "112/PP-PKBI/X/2025"),),
        ("education", "health_counselling"),
        "Education, health counselling and guidance for children, women detainees and clients",
        "Dukungan pendidikan, konseling kesehatan, serta pembinaan bagi anak, tahanan perempuan, "
        "dan klien Pemasyarakatan",
        "PKBI supports education, reproductive-health counselling and guidance for children in "
        "special development institutions, women detainees and probation clients.",
        "PKBI memberikan dukungan pendidikan, konseling kesehatan reproduksi, serta pembinaan "
        "bagi anak di LPKA, tahanan perempuan, dan klien Pemasyarakatan.",
        years=5,
        evaluation_months=6,
        obligations=(
            DemoObligation(
                "pkbi",
                "Hold monthly health counselling sessions in women's prisons",
                "Menyelenggarakan konseling kesehatan bulanan di Lapas Perempuan",
                date(2026, 3, 31),
                ObligationStatus.IN_PROGRESS,
            ),
            DemoObligation(
                None,
                "Provide rooms and schedules for counselling in each unit",
                "Menyediakan ruang dan jadwal konseling di setiap unit",
                date(2025, 12, 31),
                ObligationStatus.DONE,
            ),
        ),
        sample=False,
    ),
    DemoAgreement(
        _pks(105),
        AgreementKind.PKS,
        SIGNING_DAY,
        UnitLevel.CENTRAL,
        DIRECTORATE,
        (("mitra_sejati", "MSL/PKS/027/X/2025"),),
        ("entrepreneurship",),
        "Textile and garment job training for inmates",
        "Pelatihan kerja tekstil dan garmen bagi Warga Binaan",
        "Sewing and garment-production training in prison workshops, with orders placed by "
        "the company.",
        "Pelatihan menjahit dan produksi garmen di bengkel kerja Lapas, dengan pesanan dari "
        "perusahaan.",
        years=5,
        evaluation_months=12,
        evaluations=(
            DemoEvaluation(
                45,
                4,
                "Workshop equipped; first order of 2,000 uniforms delivered.",
                "Bengkel kerja dilengkapi; pesanan pertama 2.000 seragam telah dikirim.",
            ),
        ),
        obligations=(
            DemoObligation(
                "mitra_sejati",
                "Supply sewing machines and trainers to two prison workshops",
                "Menyediakan mesin jahit dan pelatih untuk dua bengkel kerja Lapas",
                date(2026, 3, 31),
                ObligationStatus.DONE,
            ),
        ),
        sample=False,
    ),
    DemoAgreement(
        _pks(106),
        AgreementKind.PKS,
        SIGNING_DAY,
        UnitLevel.CENTRAL,
        DIRECTORATE,
        (("srikandi", "YSMP/031/X/2025"),),
        ("entrepreneurship", "reintegration"),
        "Empowerment and job training for women inmates",
        "Pemberdayaan dan pelatihan kerja bagi Warga Binaan perempuan",
        "Job training, mentoring and support after release for women inmates.",
        "Pelatihan kerja, pendampingan, dan dukungan setelah bebas bagi Warga Binaan perempuan.",
        years=5,
        evaluation_months=12,
        obligations=(
            DemoObligation(
                "srikandi",
                "Mentor women inmates in their last six months before release",
                "Mendampingi Warga Binaan perempuan pada enam bulan terakhir sebelum bebas",
                date(2026, 10, 31),
                ObligationStatus.PLANNED,
            ),
        ),
        sample=False,
    ),
    DemoAgreement(
        _pks(107),
        AgreementKind.PKS,
        SIGNING_DAY,
        UnitLevel.CENTRAL,
        DIRECTORATE,
        (("icjr", "ICJR/PKS/09/X/2025"),),
        ("legal_aid", "research", "restorative_justice"),
        "Legal aid, research and restorative justice",
        "Bantuan hukum, penelitian, dan keadilan restoratif",
        "Legal aid for detainees and clients, joint research on the corrections law, and "
        "support for restorative-justice practice in probation offices.",
        "Bantuan hukum bagi tahanan dan klien, penelitian bersama tentang Undang-Undang "
        "Pemasyarakatan, dan dukungan praktik keadilan restoratif di Bapas.",
        years=5,
        evaluation_months=12,
        evaluations=(
            DemoEvaluation(
                40,
                5,
                "Research report on alternatives to detention published jointly.",
                "Laporan penelitian tentang alternatif penahanan diterbitkan bersama.",
            ),
        ),
        obligations=(
            DemoObligation(
                "icjr",
                "Publish a joint study on community service sentences",
                "Menerbitkan kajian bersama tentang pidana kerja sosial",
                date(2026, 12, 31),
                ObligationStatus.IN_PROGRESS,
            ),
        ),
        sample=False,
    ),
    DemoAgreement(
        _pks(108),
        AgreementKind.PKS,
        SIGNING_DAY,
        UnitLevel.CENTRAL,
        DIRECTORATE,
        (("yasa", "YFA/PKS/014/X/2025"),),
        ("entrepreneurship", "food_security"),
        "Catfish farming by inmates in support of food security",
        "Budidaya lele oleh Warga Binaan untuk mendukung ketahanan pangan",
        "Seed, feed and buying of harvests for catfish farming run by inmates.",
        "Penyediaan benih, pakan, dan pembelian hasil panen budidaya lele oleh Warga Binaan.",
        years=5,
        evaluation_months=6,
        evaluations=(
            DemoEvaluation(
                200,
                3,
                "First harvest sold; feed supply interrupted for a month.",
                "Panen pertama terjual; pasokan pakan sempat terhenti sebulan.",
            ),
        ),
        obligations=(
            DemoObligation(
                "yasa",
                "Buy each harvest at the agreed price",
                "Membeli setiap hasil panen dengan harga yang disepakati",
                date(2026, 12, 31),
                ObligationStatus.IN_PROGRESS,
            ),
        ),
        sample=False,
    ),
)

UNODC_MOU = DemoAgreement(
    "PAS-UN.HM.05.01-07 TAHUN 2024",
    AgreementKind.MOU,
    date(2024, 6, 20),
    UnitLevel.CENTRAL,
    DIRECTORATE,
    (("unodc", "UNODC/ROSEAP/IDN/2024/11"),),
    ("reintegration", "research", "capacity_building"),
    "Community participation in corrections: the Sahabat Pemasyarakatan programme",
    "Peran serta masyarakat dalam Pemasyarakatan: Program Sahabat Pemasyarakatan",
    "Support for the guideline on community participation (Law 22/2022, article 92) and the "
    "Sahabat Pemasyarakatan outreach programme, with cooperation ambassadors (Duta Kerja Sama) "
    "at central, regional and unit level.",
    "Dukungan penyusunan Pedoman Peran Serta Masyarakat (UU 22/2022 Pasal 92) dan Program "
    "Sahabat Pemasyarakatan, dengan Duta Kerja Sama di Kantor Pusat, Kanwil, dan UPT.",
    years=3,
    evaluation_months=12,
    evaluations=(
        DemoEvaluation(
            500,
            4,
            "Guideline drafting started with UNODC input on local context.",
            "Penyusunan pedoman dimulai dengan masukan UNODC tentang konteks lokal.",
        ),
    ),
    obligations=(
        DemoObligation(
            None,
            "Finalise the community participation guideline",
            "Memfinalkan Pedoman Peran Serta Masyarakat",
            date(2025, 12, 31),
            ObligationStatus.IN_PROGRESS,
        ),
    ),
    sample=False,
)


def _sample(number: int, year: int) -> str:
    """A sample agreement's reference number, plainly not a real one."""
    return f"CONTOH/PAS/{year}/{number:03d}"


def _s(
    number: int,
    signed_on: date,
    kind: AgreementKind,
    level: UnitLevel,
    unit: str,
    partners: tuple[str, ...],
    scopes: tuple[str, ...],
    title_en: str,
    title_id: str,
    **options,
) -> DemoAgreement:
    """A sample agreement of the demo history."""
    return DemoAgreement(
        _sample(number, signed_on.year),
        kind,
        signed_on,
        level,
        unit,
        tuple((key, None) for key in partners),
        scopes,
        title_en,
        title_id,
        place=UNIT_PLACES.get(unit, "Jakarta"),
        **options,
    )


PKS, MOU, LOI, IA = (
    AgreementKind.PKS,
    AgreementKind.MOU,
    AgreementKind.LETTER_OF_INTENT,
    AgreementKind.IMPLEMENTING_ARRANGEMENT,
)
CENTRAL, REGIONAL, UPT = UnitLevel.CENTRAL, UnitLevel.REGIONAL, UnitLevel.TECHNICAL_UNIT
PEMBINAAN = "Direktorat Pembinaan Narapidana dan Anak Binaan"
PEMBIMBINGAN = "Direktorat Pembimbingan Kemasyarakatan"
KANWIL_JATENG = "Kanwil Ditjenpas Jawa Tengah"
KANWIL_BALI = "Kanwil Ditjenpas Bali"
KANWIL_JATIM = "Kanwil Ditjenpas Jawa Timur"
KANWIL_DKI = "Kanwil Ditjenpas DKI Jakarta"
BAPAS_PURWOKERTO = "Bapas Kelas II Purwokerto"
LAPAS_PURWOKERTO = "Lapas Kelas IIA Purwokerto"
LAPAS_KEROBOKAN = "Lapas Kelas IIA Kerobokan"
LPKA_JAKARTA = "LPKA Kelas II Jakarta"
RUTAN_SURAKARTA = "Rutan Kelas I Surakarta"
LAPAS_PEREMPUAN_SEMARANG = "Lapas Perempuan Kelas IIA Semarang"
UNIT_PLACES = {
    KANWIL_JATENG: "Semarang",
    KANWIL_BALI: "Denpasar",
    KANWIL_JATIM: "Surabaya",
    KANWIL_DKI: "Jakarta",
    BAPAS_PURWOKERTO: "Purwokerto",
    LAPAS_PURWOKERTO: "Purwokerto",
    LAPAS_KEROBOKAN: "Badung, Bali",
    LPKA_JAKARTA: "Jakarta",
    RUTAN_SURAKARTA: "Surakarta",
    LAPAS_PEREMPUAN_SEMARANG: "Semarang",
}
OVERDUE = DemoEvaluation(
    450,
    3,
    "Activities ran as planned in the first year; reporting was late.",
    "Kegiatan berjalan sesuai rencana pada tahun pertama; pelaporan terlambat.",
)
RECENT = DemoEvaluation(
    60,
    4,
    "Activities on schedule; partner asks to widen the programme to more units.",
    "Kegiatan sesuai jadwal; mitra meminta program diperluas ke lebih banyak unit.",
)

# 8 before 2024, 16 in 2024 (plus UNODC: 17), 10 in 2025 (plus the 8 PKS: 18): 43 in all.
SAMPLE_HISTORY = (
    _s(1, date(2021, 3, 15), MOU, CENTRAL, PEMBINAAN, ("bnn",), ("health_counselling",),
       "Drug rehabilitation for inmates", "Rehabilitasi narkotika bagi Warga Binaan",
       status=AgreementStatus.EXPIRED),
    _s(2, date(2021, 8, 10), PKS, REGIONAL, KANWIL_JATENG, ("unsoed",), ("research",),
       "Research on reoffending among probation clients",
       "Penelitian residivisme klien Pemasyarakatan"),
    _s(1, date(2022, 2, 21), PKS, UPT, LAPAS_KEROBOKAN, ("pmi",), ("health_counselling",),
       "First aid and blood donation in Kerobokan prison",
       "Pertolongan pertama dan donor darah di Lapas Kerobokan",
       status=AgreementStatus.EXPIRED),
    _s(2, date(2022, 6, 14), PKS, CENTRAL, PEMBINAAN, ("kadin",), ("entrepreneurship",),
       "Market access for products made in prisons",
       "Akses pasar bagi produk karya Warga Binaan",
       years=5, evaluation_months=12, evaluations=(OVERDUE,)),
    _s(3, date(2022, 11, 1), PKS, REGIONAL, KANWIL_BALI, ("bali",), ("reintegration",),
       "Reintegration of former inmates into village communities in Bali",
       "Reintegrasi mantan Warga Binaan ke masyarakat desa di Bali", ends_in_days=20),
    _s(1, date(2023, 1, 16), PKS, UPT, RUTAN_SURAKARTA, ("pmi",), ("health_counselling",),
       "Health screening for detainees", "Pemeriksaan kesehatan bagi tahanan",
       years=5),
    _s(2, date(2023, 5, 22), LOI, CENTRAL, PEMBIMBINGAN, ("unodc",), ("restorative_justice",),
       "Alternatives to imprisonment", "Alternatif pemidanaan non-pemenjaraan", years=2),
    _s(3, date(2023, 9, 4), PKS, UPT, LPKA_JAKARTA, ("pkbi",), ("education",),
       "Schooling for children in the special development institution",
       "Pendidikan bagi Anak Binaan di LPKA", status=AgreementStatus.TERMINATED),
    # 2024: sixteen samples.
    _s(1, date(2024, 1, 18), MOU, CENTRAL, PEMBINAAN, ("bnn",), ("health_counselling",),
       "Drug rehabilitation for inmates (renewed)",
       "Rehabilitasi narkotika bagi Warga Binaan (perpanjangan)",
       years=5, evaluation_months=12, evaluations=(RECENT,),
       parent=_sample(1, 2021), relation=AgreementRelation.RENEWAL),
    _s(2, date(2024, 2, 12), PKS, UPT, BAPAS_PURWOKERTO, ("banyumas", "pokmas"),
       ("community_service", "reintegration"),
       "Placements for community service sentences in Banyumas",
       "Penempatan pelaksanaan pidana kerja sosial di Kabupaten Banyumas",
       evaluation_months=6, evaluations=(OVERDUE,)),
    _s(3, date(2024, 2, 26), PKS, UPT, LAPAS_PURWOKERTO, ("pokmas",), ("reintegration",),
       "Community mentoring for inmates nearing release",
       "Pendampingan masyarakat bagi Warga Binaan menjelang bebas", ends_in_days=45),
    _s(4, date(2024, 3, 7), PKS, REGIONAL, KANWIL_JATENG, ("unsoed",), ("research",),
       "Evaluation of community service sentences in Central Java",
       "Evaluasi pelaksanaan pidana kerja sosial di Jawa Tengah", years=2),
    _s(5, date(2024, 3, 28), PKS, UPT, LAPAS_KEROBOKAN, ("udayana",), ("education",),
       "Distance learning for inmates", "Pendidikan jarak jauh bagi Warga Binaan"),
    _s(6, date(2024, 4, 15), IA, CENTRAL, PEMBIMBINGAN, ("icjr",), ("restorative_justice",),
       "Restorative justice in probation reports",
       "Keadilan restoratif dalam penelitian kemasyarakatan"),
    _s(7, date(2024, 5, 2), PKS, REGIONAL, KANWIL_BALI, ("pmi",), ("health_counselling",),
       "Health services in Bali's prisons", "Layanan kesehatan di Lapas dan Rutan se-Bali"),
    _s(8, date(2024, 5, 20), PKS, UPT, LAPAS_PEREMPUAN_SEMARANG, ("srikandi",),
       ("entrepreneurship",), "Batik workshop for women inmates",
       "Pelatihan membatik bagi Warga Binaan perempuan", ends_in_days=75),
    _s(9, date(2024, 6, 10), PKS, REGIONAL, KANWIL_JATIM, ("kadin",),
       ("entrepreneurship", "food_security"), "Prison farms in East Java",
       "Pertanian Lapas di Jawa Timur", evaluation_months=12, evaluations=(RECENT,)),
    _s(10, date(2024, 7, 1), PKS, UPT, RUTAN_SURAKARTA, ("icjr",), ("legal_aid",),
       "Legal aid desk for detainees", "Pos bantuan hukum bagi tahanan"),
    _s(11, date(2024, 7, 22), PKS, CENTRAL, DIRECTORATE, ("udayana",), ("research",),
       "Study on overcrowding", "Kajian kelebihan penghuni"),
    _s(12, date(2024, 8, 14), PKS, UPT, LPKA_JAKARTA, ("pkbi",),
       ("education", "health_counselling"), "Counselling for children",
       "Konseling bagi Anak Binaan", years=1),
    _s(13, date(2024, 9, 3), PKS, REGIONAL, KANWIL_DKI, ("bnn",), ("health_counselling",),
       "Drug testing in Jakarta's detention centres",
       "Tes narkotika di Rutan se-DKI Jakarta", years=5),
    _s(14, date(2024, 9, 25), PKS, UPT, BAPAS_PURWOKERTO, ("unsoed",),
       ("community_service", "research"), "Students supporting community service supervision",
       "Mahasiswa mendukung pengawasan pidana kerja sosial", years=2),
    _s(15, date(2024, 10, 30), PKS, CENTRAL, PEMBINAAN, ("leu_mui",), ("education",),
       "Religious guidance for inmates", "Pembinaan kerohanian bagi Warga Binaan", years=5),
    _s(16, date(2024, 11, 18), PKS, REGIONAL, KANWIL_JATENG, ("banyumas",),
       ("capacity_building",), "Joint training with local government",
       "Pelatihan bersama dengan pemerintah daerah"),
    # 2025: ten samples beside the eight PKS of 2 October.
    _s(1, date(2025, 1, 20), PKS, UPT, LAPAS_PURWOKERTO, ("banyumas",), ("community_service",),
       "Community service work sites in Purwokerto",
       "Lokasi kerja pidana kerja sosial di Purwokerto", evaluation_months=6),
    _s(2, date(2025, 2, 17), IA, CENTRAL, PEMBIMBINGAN, ("unodc",), ("capacity_building",),
       "Training probation officers on risk assessment",
       "Pelatihan pembimbing kemasyarakatan tentang asesmen risiko", years=2),
    _s(3, date(2025, 3, 10), PKS, REGIONAL, KANWIL_BALI, ("udayana",), ("research",),
       "Research on reintegration in Bali", "Penelitian reintegrasi sosial di Bali"),
    _s(4, date(2025, 4, 14), AgreementKind.ADDENDUM, REGIONAL, KANWIL_JATIM, ("kadin",),
       ("entrepreneurship", "food_security"), "Addendum: fisheries added to prison farms",
       "Adendum: perikanan ditambahkan pada pertanian Lapas",
       parent=_sample(9, 2024), relation=AgreementRelation.ADDENDUM),
    _s(5, date(2025, 5, 5), PKS, UPT, LAPAS_KEROBOKAN, ("bali",), ("reintegration",),
       "Village welcome programme for released inmates",
       "Program penerimaan desa bagi Warga Binaan yang bebas"),
    _s(6, date(2025, 6, 2), PKS, UPT, RUTAN_SURAKARTA, ("koperasi_lele",),
       ("entrepreneurship", "food_security"), "Catfish ponds at Surakarta detention centre",
       "Kolam lele di Rutan Surakarta"),
    _s(7, date(2025, 6, 23), PKS, REGIONAL, KANWIL_DKI, ("icjr",), ("legal_aid",),
       "Legal aid for detainees in Jakarta", "Bantuan hukum bagi tahanan di DKI Jakarta"),
    _s(8, date(2025, 7, 7), PKS, CENTRAL, PEMBINAAN, ("pmi",), ("health_counselling",),
       "Disaster preparedness in prisons", "Kesiapsiagaan bencana di Lapas dan Rutan"),
    _s(9, date(2025, 8, 11), PKS, UPT, LAPAS_PEREMPUAN_SEMARANG, ("pkbi",),
       ("health_counselling",), "Maternal health for women inmates",
       "Kesehatan ibu bagi Warga Binaan perempuan"),
    _s(10, date(2025, 9, 1), PKS, UPT, BAPAS_PURWOKERTO, ("pokmas", "banyumas"),
       ("community_service", "restorative_justice"),
       "Restorative justice circles for clients",
       "Musyawarah keadilan restoratif bagi klien Pemasyarakatan", years=1),
)  # fmt: skip

DEMO_AGREEMENTS = (UNODC_MOU, *SIGNED_2_OCTOBER_2025, *SAMPLE_HISTORY)


# --- loading --------------------------------------------------------------------------------


def load_scope_areas() -> dict[str, ScopeArea]:
    """The managed scope areas, created when missing; by code."""
    existing = {area.code: area for area in db.session.scalars(select(ScopeArea))}
    for position, (code, english, indonesian) in enumerate(SCOPE_AREAS, start=1):
        if code not in existing:
            existing[code] = ScopeArea(
                code=code,
                name=TranslatedText(en=english, id=indonesian),
                position=position * 10,
            )
            db.session.add(existing[code])
    return existing


def _find_partner(wanted: DemoPartner) -> Partner | None:
    """The partner this entry means, whoever created it: by folded name, else by acronym."""
    keys = {name_key(wanted.name)}
    if wanted.acronym:
        keys.add(name_key(f"{wanted.name} ({wanted.acronym})"))
    found = db.session.scalars(select(Partner).where(Partner.name_key.in_(keys))).first()
    if found is not None or not wanted.acronym:
        return found
    same_acronym = db.session.scalars(
        select(Partner).where(func.lower(Partner.acronym) == wanted.acronym.lower()).limit(2)
    ).all()
    return same_acronym[0] if len(same_acronym) == 1 else None


def load_partners() -> dict[str, Partner]:
    """The partners the demo agreements name (the partner demo may have created them)."""
    partners = {}
    for key, wanted in PARTNERS.items():
        partner = _find_partner(wanted)
        if partner is None:
            partner = Partner(
                name=wanted.name,
                name_key=name_key(wanted.name),
                acronym=wanted.acronym,
                kind=wanted.kind.value,
                country=wanted.country,
                website=wanted.website,
                notes=SAMPLE_PARTNER_NOTE if wanted.sample else None,
            )
            db.session.add(partner)
        partners[key] = partner
    return partners


def _title(spec: DemoAgreement, english: str | None, indonesian: str | None) -> TranslatedText:
    """A bilingual text, marked as a sample where the agreement is one."""
    if spec.sample and english and indonesian:
        english, indonesian = SAMPLE_PREFIX["en"] + english, SAMPLE_PREFIX["id"] + indonesian
    return TranslatedText(en=english, id=indonesian)


def _ends_on(spec: DemoAgreement, today: date) -> date:
    """The end of the term, or a day near today for the ones shown as expiring soon."""
    if spec.ends_in_days is not None:
        return max(today + timedelta(days=spec.ends_in_days), spec.signed_on)
    try:
        anniversary = spec.signed_on.replace(year=spec.signed_on.year + spec.years)
    except ValueError:  # 29 February
        anniversary = spec.signed_on.replace(year=spec.signed_on.year + spec.years, day=28)
    return anniversary - timedelta(days=1)


def _build(
    spec: DemoAgreement,
    today: date,
    partners: dict[str, Partner],
    areas: dict[str, ScopeArea],
    officer: User | None,
) -> Agreement:
    """One agreement with its parties, scope areas, obligations and past evaluations."""
    agreement = Agreement(
        kind=spec.kind.value,
        reference_number=spec.reference,
        title=_title(spec, spec.title_en, spec.title_id),
        summary=_title(spec, spec.summary_en, spec.summary_id) if spec.summary_en else None,
        status=spec.status.value,
        unit_level=spec.level.value,
        unit_name=spec.unit,
        responsible_officer=officer,
        signed_on=spec.signed_on,
        signed_place=spec.place,
        starts_on=spec.signed_on,
        ends_on=_ends_on(spec, today),
        evaluation_interval_months=spec.evaluation_months,
        is_sample=spec.sample,
    )
    agreement.parties = [
        AgreementParty(partner=partners[key], reference_number=reference)
        for key, reference in spec.parties
    ]
    agreement.scope_areas = [areas[code] for code in spec.scopes]
    agreement.obligations = [
        Obligation(
            partner=partners[item.partner] if item.partner else None,
            description=TranslatedText(en=item.en, id=item.id),
            due_on=item.due_on,
            status=item.status.value,
        )
        for item in spec.obligations
    ]
    for item in spec.evaluations:
        evaluated_on = max(today - timedelta(days=item.days_ago), spec.signed_on)
        agreement.evaluations.append(
            Evaluation(
                evaluated_on=evaluated_on,
                evaluator_name=EVALUATION_TEAM,
                overall_rating=item.rating,
                findings=TranslatedText(en=item.findings_en, id=item.findings_id),
            )
        )
    return agreement


def load_demo_registry() -> None:
    """Scope areas, the 2 October 2025 agreements and sample history (17 in 2024, 43 in all)."""
    today = date.today()
    areas = load_scope_areas()
    partners = load_partners()
    officer = db.session.scalar(select(User).where(User.email == REGISTRY_OFFICER_EMAIL))
    references = [spec.reference for spec in DEMO_AGREEMENTS]
    by_reference = {
        agreement.reference_number: agreement
        for agreement in db.session.scalars(
            select(Agreement).where(Agreement.reference_number.in_(references))
        )
    }
    for spec in DEMO_AGREEMENTS:
        if spec.reference in by_reference:
            continue
        agreement = _build(spec, today, partners, areas, officer)
        if spec.parent is not None:
            agreement.parent = by_reference[spec.parent]
            agreement.relation = spec.relation.value if spec.relation else None
        db.session.add(agreement)
        by_reference[spec.reference] = agreement
    db.session.flush()
