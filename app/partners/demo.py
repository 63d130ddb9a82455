"""Demo partner organisations: the 2 October 2025 signatories, UNODC, ICJR, Pokmas Lipas and
a few clearly-marked samples. Every contact person is fictitious."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.partners.models import Partner, PartnerKind
from app.partners.services import (
    ContactDetails,
    PartnerDetails,
    add_contact,
    create_partner,
    find_partner,
)

SIGNED_2025 = "Signed a cooperation agreement with Ditjenpas in Jakarta on 2 October 2025."
FICTITIOUS_CONTACTS = "Contact persons are fictitious demo data."
SAMPLE = "Sample data: not a real cooperation, added to make the demo registry fuller."


@dataclass(frozen=True)
class DemoContact:
    """A fictitious person at a demo partner."""

    name: str
    position: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class DemoPartner:
    """One demo partner and its contacts."""

    name: str
    kind: PartnerKind
    acronym: str | None = None
    country: str = "ID"
    address: str | None = None
    website: str | None = None
    notes: str | None = None
    contacts: tuple[DemoContact, ...] = field(default_factory=tuple)


DEMO_PARTNERS = (
    DemoPartner(
        "Direktorat Jenderal Kependudukan dan Pencatatan Sipil, Kementerian Dalam Negeri",
        PartnerKind.GOVERNMENT,
        acronym="Dukcapil",
        address="Jakarta Selatan, DKI Jakarta",
        website="https://dukcapil.kemendagri.go.id",
        notes=f"{SIGNED_2025} Population data to verify detainees' identities. "
        f"{FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact(
                "Rina Kartikasari",
                "Kepala Subdirektorat Kerja Sama",
                "rina.kartikasari@dukcapil.example",
                "+62 21 5550 1101",
            ),
            DemoContact(
                "Agus Prasetyo", "Analis Data Kependudukan", "agus.prasetyo@dukcapil.example"
            ),
        ),
    ),
    DemoPartner(
        "Badan Pengembangan SDM Imigrasi dan Pemasyarakatan",
        PartnerKind.TRAINING,
        acronym="BPSDM Imipas",
        address="Depok, Jawa Barat",
        notes=f"{SIGNED_2025} Training of officers and cadets. {FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact(
                "Dewi Lestari",
                "Kepala Bidang Diklat Teknis",
                "dewi.lestari@bpsdm-imipas.example",
                "+62 21 5550 1202",
            ),
        ),
    ),
    DemoPartner(
        "Lembaga Ekonomi Umat, Majelis Ulama Indonesia",
        PartnerKind.RELIGIOUS,
        acronym="LEU MUI",
        address="Jakarta Pusat, DKI Jakarta",
        notes=f"{SIGNED_2025} Entrepreneurship and job training. {FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact("H. Ahmad Fauzi", "Sekretaris Lembaga", "ahmad.fauzi@leu-mui.example"),
        ),
    ),
    DemoPartner(
        "Perkumpulan Keluarga Berencana Indonesia",
        PartnerKind.NGO,
        acronym="PKBI",
        address="Jakarta Selatan, DKI Jakarta",
        website="https://pkbi.or.id",
        notes=f"{SIGNED_2025} Health education and counselling for women detainees and "
        f"children. {FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact(
                "Sari Handayani",
                "Koordinator Program Kesehatan Reproduksi",
                "sari.handayani@pkbi.example",
                "+62 21 5550 1404",
            ),
            DemoContact("Yohanes Tanoto", "Konselor", "yohanes.tanoto@pkbi.example"),
        ),
    ),
    DemoPartner(
        "PT Mitra Sejati Laksana",
        PartnerKind.BUSINESS,
        address="Jakarta",
        notes=f"{SIGNED_2025} Textile production training and work. {FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact(
                "Hendra Wijaya",
                "Direktur Operasional",
                "hendra.wijaya@mitrasejati.example",
                "+62 21 5550 1505",
            ),
        ),
    ),
    DemoPartner(
        "Yayasan Srikandi Merah Putih",
        PartnerKind.FOUNDATION,
        address="Jakarta",
        notes=f"{SIGNED_2025} Mentoring and empowerment of women clients. {FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact("Maya Anggraini", "Ketua Yayasan", "maya.anggraini@srikandi.example"),
        ),
    ),
    DemoPartner(
        "Institute for Criminal Justice Reform",
        PartnerKind.NGO,
        acronym="ICJR",
        address="Jakarta Selatan, DKI Jakarta",
        website="https://icjr.or.id",
        notes=f"{SIGNED_2025} Research and legal aid. {FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact(
                "Nadia Putri",
                "Researcher",
                "nadia.putri@icjr.example",
                "+62 21 5550 1707",
            ),
            DemoContact("Bayu Nugroho", "Programme Officer", "bayu.nugroho@icjr.example"),
        ),
    ),
    DemoPartner(
        "CV Yasa Fortune Abadi",
        PartnerKind.BUSINESS,
        address="Jakarta",
        notes=f"{SIGNED_2025} Catfish farming and food security. {FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact(
                "Yasa Pratama", "Pemilik", "yasa.pratama@yasafortune.example", "+62 21 5550 1808"
            ),
        ),
    ),
    DemoPartner(
        "United Nations Office on Drugs and Crime",
        PartnerKind.INTERNATIONAL,
        acronym="UNODC",
        country="AT",
        address="Vienna International Centre\nWagramer Strasse 5\n1400 Vienna\nAustria",
        website="https://www.unodc.org",
        notes=f"Prison reform and alternatives to imprisonment. {FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact(
                "Elena Hofmann",
                "Crime Prevention and Criminal Justice Officer",
                "elena.hofmann@unodc.example",
                "+43 1 5550 4100",
            ),
            DemoContact(
                "Arif Rahman",
                "National Programme Officer, Jakarta",
                "arif.rahman@unodc.example",
            ),
        ),
    ),
    DemoPartner(
        "Kelompok Masyarakat Peduli Pemasyarakatan",
        PartnerKind.COMMUNITY_GROUP,
        acronym="Pokmas Lipas",
        address="Denpasar, Bali",
        notes=f"Community group supporting clients' reintegration. {FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact(
                "I Made Suardana",
                "Ketua Pokmas",
                "made.suardana@pokmas-lipas.example",
                "+62 361 555 0110",
            ),
        ),
    ),
    DemoPartner(
        "Fakultas Hukum Universitas Udayana",
        PartnerKind.ACADEMIA,
        address="Jimbaran, Badung, Bali",
        notes=f"{SAMPLE} {FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact(
                "Dr. Ni Luh Ayu Saraswati",
                "Dosen Hukum Pidana",
                "ayu.saraswati@fh-unud.example",
            ),
        ),
    ),
    DemoPartner(
        "Dinas Tenaga Kerja dan Energi Sumber Daya Mineral Provinsi Bali",
        PartnerKind.GOVERNMENT,
        acronym="Disnaker ESDM Bali",
        address="Denpasar, Bali",
        notes=f"{SAMPLE} A regional partner of the Bali regional office (Kanwil). "
        f"{FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact(
                "I Ketut Wirawan",
                "Kepala Bidang Pelatihan Kerja",
                "ketut.wirawan@disnaker-bali.example",
                "+62 361 555 0120",
            ),
        ),
    ),
    DemoPartner(
        "Koperasi Lele Mandiri Sejahtera",
        PartnerKind.BUSINESS,
        address="Sleman, Daerah Istimewa Yogyakarta",
        notes=f"{SAMPLE} A fictitious cooperative working with a technical unit (UPT). "
        f"{FICTITIOUS_CONTACTS}",
        contacts=(
            DemoContact("Slamet Riyadi", "Ketua Koperasi", "slamet.riyadi@lele-mandiri.example"),
        ),
    ),
)


def _load_partner(demo: DemoPartner) -> Partner:
    """The demo partner, created with its contacts when it is not there yet."""
    partner = find_partner(demo.name, demo.country)
    if partner is not None:
        return partner
    details = PartnerDetails(
        name=demo.name,
        kind=demo.kind.value,
        country=demo.country,
        acronym=demo.acronym,
        address=demo.address,
        website=demo.website,
        notes=demo.notes,
    )
    # The demo's partners are known to be distinct organisations, whatever their names.
    partner = create_partner(details, actor=None, confirmed_similar=True)
    for contact in demo.contacts:
        add_contact(
            partner,
            ContactDetails(contact.name, contact.position, contact.email, contact.phone),
            actor=None,
        )
    return partner


def load_demo_partners() -> None:
    """The partners of the 2 October 2025 signing, UNODC, ICJR and others."""
    for demo in DEMO_PARTNERS:
        _load_partner(demo)
