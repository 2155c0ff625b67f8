"""Ofsted's Annex A layout: the sheets, their columns in order and the coded values, by list.

Headers are those London authorities exchange (``annex-a-merge.yml`` of the public ``liiatools``
0.2.0), coded values those of its ``data-map.yml`` (``a) Male``, ``a) WBRI``, ``C2: FCO`` ...), so that
tools built for Annex A read the workbooks; ``tests/python/test_annex_a.py`` checks every workbook
against the package's own files. Each map goes from the warehouse's code to the template's value; a
code the template does not list (added by the DfE later: referral source 5D, closure RC9, activities
F4/P4/F5/P5, SGO reasons E43/E44 of older returns) is written as given.
"""

from __future__ import annotations

HEADERS: dict[str, tuple[str, ...]] = {
    "List 1": (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Date of Contact",
        "Contact Source",
    ),
    "List 2": (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Assessment start date",
        "Assessment completion date",
        "Organisation completing assessment",
    ),
    "List 3": (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Date of referral",
        "Referral Source",
        "Referral NFA?",
        "Number of Referrals in Last 12 Months",
        "Allocated Team",
        "Allocated Worker",
    ),
    "List 4": (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Does the Child have a Disability",
        "Continuous Assessment Start Date",
        "Child Seen During Continuous Assessment",
        "Continuous Assessment Date of Authorisation",
        "Was the child assessed as requiring LA children's social care support?",
        "Allocated Team",
        "Allocated Worker",
    ),
    "List 5": (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Does the Child have a Disability",
        "Strategy discussion initiating Section 47 Enquiry Start Date",
        "Was an Initial Child Protection Conference deemed unnecessary?",
        "Date of Initial Child Protection Conference",
        "Did the Initial Child Protection Conference Result in a Child Protection Plan",
        "Number of Section 47 Enquiries in the last 12 months",
        "Number of ICPCs in the last 12 months",
        "Allocated Team",
        "Allocated Worker",
    ),
    "List 6": (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Does the Child have a Disability",
        "CIN Start Date",
        "Primary Need Code",
        "Date Child Was Last Seen",
        "CIN Closure Date",
        "Reason for Closure",
        "Case Status",
        "Allocated Team",
        "Allocated Worker",
    ),
    "List 7": (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Does the Child have a Disability",
        "Child Protection Plan Start Date",
        "Initial Category of Abuse",
        "Latest Category of Abuse",
        "Date of the Last Statutory Visit",
        "Was the Child Seen Alone?",
        "Date of latest review conference",
        "Child Protection Plan End Date",
        "Subject to Emergency Protection Order or Protected Under Police Powers in Last Six Months (Y/N)",
        "Number of Previous Child Protection Plans",
        "Allocated Team",
        "Allocated Worker",
    ),
    "List 8": (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N)",
        "Does the Child have a Disability",
        "Date Started to be Looked After",
        "Child's Category of Need",
        "Is this a second or subsequent period of being a Looked After Child within the last 12 months (Y/N)",
        "Start date of current legal status",
        "Child's Legal Status",
        "Date of Latest Statutory Review",
        "Date of Last Social Work Visit",
        "What is the permanence plan for this child?",
        "Date of Last IRO Visit / Contact to the Child",
        "Date of Last Health Assessment",
        "Date of Last Dental Check",
        "Number of Placements in the Last 12 months",
        "Date Ceased to be Looked After",
        "Reason Ceased to be Looked After",
        "Start Date of Most Recent Placement",
        "Placement Type",
        "Placement Provider",
        "Placement postcode",
        "URN of Placement",
        "Placement Location",
        "LA of Placement",
        "Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months",
        "Number of Episodes the Child has been 'Absent' from their Placement in the last 12 months",
        "Was the child offered a Return Interview after their last missing episode (Y/N)?",
        "Did the child accept a Return Interview after their last missing episode (Y/N)?",
        "Allocated Team",
        "Allocated Worker",
    ),
    "List 9": (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Does the Child have a Disability",
        "Allocated Team",
        "Allocated Worker",
        "Eligibility Category",
        "LA in Touch",
        "Type of Accommodation",
        "Suitability of Accommodation",
        "Activity Status",
    ),
    "List 10": (
        "Child Unique ID",
        "Family identifier",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Does the Child have a Disability",
        "Date the Child Entered Care",
        "Date of Decision that Child Should be Placed for Adoption",
        "Date of Placement Order",
        "Date of Matching Child and Prospective Adopters",
        "Date Placed for Adoption",
        "Date of Adoption Order",
        "Date of Decision that Child Should No Longer be Placed for Adoption",
        "Reason Why Child No Longer Placed for Adoption",
        "Date the child was placed for fostering in FFA or concurrent planning placement",
    ),
}

GENDER = {"M": "a) Male", "F": "b) Female", "U": "c) Not stated/recorded"}
YES, NO, UNKNOWN = "a) Yes", "b) No", "c) Unknown"
CASE_STATUS = {
    "looked_after": "a) Looked after child",
    "cp_plan": "b) Child Protection plan",
    "cin_plan": "c) Child in need plan",
    "assessment": "d) Open assessment",
    "closed": "e) Closed episode",
}
CATEGORY_OF_ABUSE = {
    "N": "a) Neglect",
    "P": "b) Physical abuse",
    "S": "c) Sexual abuse",
    "E": "d) Emotional abuse",
    "M": "e) Multiple/not recommended",
}
ELIGIBILITY = {"relevant": "a) Relevant child", "former_relevant": "b) Former relevant child"}
LA_IN_TOUCH = {True: "a) Yes", False: "b) No"}
SUITABILITY = {"1": "a) Suitable", "2": "b) Unsuitable"}
PLACEMENT_LOCATION = {True: "b) Out", False: "a) In"}
# Contact sources of the canonical contact_received event, as CIN census referral-source codes.
CONTACT_TO_SOURCE = {
    "police": "6",
    "school": "2A",
    "health": "3F",
    "la": "5B",
    "individual": "1D",
    "other": "8",
}

CONTACT_SOURCE = {
    "1A": "a) 1A: Individual",
    "1B": "b) 1B: Individual",
    "1C": "c) 1C: Individual",
    "1D": "d) 1D: Individual",
    "3C": "i) 3C: Health services",
    "2A": "e) 2A: Schools",
    "2B": "f) 2B: Education services",
    "3A": "g) 3A: Health services",
    "3B": "h) 3B: Health services",
    "3D": "j) 3D: Health services",
    "3E": "k) 3E: Health services",
    "3F": "l) 3F: Health services",
    "5B": "o) 5B: LA services",
    "5C": "p) 5C: LA services",
    "5A": "n) 5A: LA services",
    "4": "m) 4: Housing",
    "6": "q) 6: Police",
    "7": "r) 7: Other legal agency",
    "8": "s) 8: Other",
    "9": "t) 9: Anonymous",
    "10": "u) 10: Unknown",
}

REASON_FOR_CLOSURE = {
    "RC1": "RC1 - Adopted",
    "RC2": "RC2 - Died",
    "RC3": "RC3 - Child arrangements order",
    "RC4": "RC4 - Special guardianship order",
    "RC5": "RC5 - Transferred to services of another local authority",
    "RC6": "RC6 - Transferred to adult social care services",
    "RC7": "RC7 - Services ceased for any other reason, including child no longer in need",
    "RC8": "RC8 - Case closed after assessment, no further action",
}

LEGAL_STATUS = {
    "E1": "E1: Placement order",
    "C1": "C1: ICO",
    "C2": "C2: FCO",
    "D1": "D1: Freeing order",
    "V2": "V2: Single period under S20",
    "L1": "L1: Police protection LA accommodation",
    "L2": "L2: EPO",
    "L3": "L3: Child assessment order LA accommodation",
    "J1": "J1: Remanded to LA or youth detention",
    "J2": "J2: LA accommodation under PACE",
    "J3": "J3: Youth rehabilitation order",
    "V3": "V3: Short term breaks, episodes recorded",
    "V4": "V4: Short term breaks, agreements recorded",
}

REASON_CEASED = {
    "E11": "a) E11: Adopted - application unopposed",
    "E12": "b) E12: Adopted - consent dispensed",
    "E15": "r) E15: Age assessment determined child was 18 or over",
    "E2": "c) E2: Died",
    "E3": "d) E3: Care taken by another LA",
    "E4B": "f) E4B: Returned home to live with parents or relatives - not part of planning",
    "E4A": "e) E4A: Returned home to live with parents or relatives - part of planning",
    "E13": "g) E13: Parents, relatives or other with no parental responsibility",
    "E41": "h) E41: Residence order granted",
    "E45": "i) E45: Special Guardianship Orders - former carer relative/friend",
    "E46": "j) E46: Special Guardianship Orders - former carer other",
    "E47": "k) E47: Special Guardianship Orders - relative/friend",
    "E48": "l) E48: Special Guardianship Orders - other",
    "E5": "m) E5: Moved into independent living - supported",
    "E6": "n) E6: Moved into independent living - no support",
    "E7": "o) E7: Transferred to residential care funded by adult social services",
    "E9": "p) E9: Sentenced to custody",
    "E14": "q) E14: Accommodation on remand ended",
    "E16": "s) E16: Child moved abroad",
    "E8": "t) E8: Care ceased for any other reason",
    "X1": "u) X1: CodeError",
    "E17": "v) E17: Aged 18+ and remained with current carers",
}

PLACEMENT_TYPE = {
    "U3": "c) U3: Foster placement - relative - not FFA",
    "U6": "f) U6: Foster placement - not FFA",
    "U1": "a) U1: Foster placement - relatives - long term",
    "U4": "d) U4: Foster placement - long term",
    "U2": "b) U2: Foster placement - relative - FFA",
    "U5": "e) U5: Foster placement - FFA",
    "A3": "g) A3: Placed for adoption - consent - current foster",
    "A4": "h) A4: Placed for adoption - consent - not foster",
    "A6": "j) A6: Placed for adoption - order - not foster",
    "A5": "i) A5: Placed for adoption - order - foster",
    "P1": "k) P1: Placed with parents",
    "P2": "l) P2: Independent living",
    "P3": "m) P3: Residential employment",
    "H5": "n) H5: Residential accommodation",
    "K1": "o) K1: Secure Children's Homes",
    "K2": "p) K2: Children's Homes",
    "R1": "q) R1: Residential Care Home",
    "R2": "r) R2: NHS/Health Trust",
    "R3": "s) R3: Family Centre or Mother and Baby Unit",
    "R5": "t) R5: Young Offender Institution",
    "S1": "u) S1: Residential school",
    "Z1": "v) Z1: Other placements",
    "T1": "x) T1: Temporary placement - hospital",
    "T3": "z) T3: Temporary placement - carer holiday",
    "T2": "y) T2: Temporary placement - holiday",
    "T4": "zz) T4: Temporary placement - seven days or less",
    "T0": "w) T0: Temporary placement",
}

ACCOMMODATION = {
    "B": "B: Parents/relatives",
    "C": "C: Community home/residential care",
    "D": "D: Semi-independent, transitional accommodation and self-contained accommodation",
    "E": "E: Supported lodgings",
    "G": "G: Abroad",
    "H": "H: Deported",
    "K": "K: Ordinary lodgings, without formal support",
    "R": "R: Residence not known",
    "S": "S: No fixed adobe/homeless",
    "T": "T: Foyers and similar supported accommodation",
    "U": "U: Independent living",
    "V": "V: Emergency accommodation",
    "W": "W: Bed and breakfast",
    "X": "X: In custody",
    "Y": "Y: Other accommodation",
    "Z": "Z: With former foster carers",
}

ACTIVITY = {
    "F1": "F1: Full time in higher education",
    "P1": "P1: Part time in higher education",
    "F2": "F2: Full time in education other than higher",
    "P2": "P2: Part time in education other than higher",
    "F3": "F3: Full time in training or employment",
    "P3": "P3: Part time in training or employment",
    "G4": "G4: Not in education, employment or training - illness or disability",
    "G5": "G5: Not in education, employment or training - other",
    "G6": "G6: Not in education, employment or training - pregnancy or parenting",
}

REASON_NO_LONGER_PLACED = {
    "RD1": "RD1 - The child’s needs changed subsequent to the decision",  # noqa: RUF001 (the template spells it so)
    "RD2": "RD2 - The Court did not make a placement order",
    "RD3": "RD3 - Prospective adopters could not be found",
    "RD4": "RD4 - Any other reason",
}

ETHNICITY = {
    "WBRI": "a) WBRI",
    "WIRI": "b) WIRI",
    "WIRT": "c) WIRT",
    "WOTH": "d) WOTH",
    "WROM": "e) WROM",
    "MWBC": "f) MWBC",
    "MWBA": "g) MWBA",
    "MWAS": "h) MWAS",
    "MOTH": "i) MOTH",
    "AIND": "j) AIND",
    "APKN": "k) APKN",
    "ABAN": "l) ABAN",
    "AOTH": "m) AOTH",
    "BCRB": "n) BCRB",
    "BAFR": "o) BAFR",
    "BOTH": "p) BOTH",
    "CHNE": "q) CHNE",
    "OOTH": "r) OOTH",
    "REFU": "s) REFU",
    "NOBT": "s) NOBT",
}

# Headers an authority's own workbook may spell its own way: a pattern per template column (matched
# on the lower-cased header), tried only when no header matches the template's spelling.
HEADER_PATTERNS: dict[str, str] = {
    "Child Unique ID": r"child.*\bid\b|child.*identifier",
    "Date of Birth": r"date.*birth|\bdob\b",
    "Age of Child (Years)": r"^age\b",
    "Date of Contact": r"date.*contact",
    "Contact Source": r"contact.*source",
    "Date of referral": r"date of.*referral|referral date",
    "Was the child assessed as requiring LA children's social care support?": (
        r"was the child assessed.*social care support"
    ),
    "Subject to Emergency Protection Order or Protected Under Police Powers in Last Six Months (Y/N)": (
        r"subject to emergency protection order"
    ),
    "Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N)": (
        r"unaccompanied asylum seeking child"
    ),
    "Child's Category of Need": r"child.*category of need",
    "Is this a second or subsequent period of being a Looked After Child within the last 12 months (Y/N)": (
        r"second or subsequent .* of being a looked after child"
    ),
    "Child's Legal Status": r"child.*legal status",
    "Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months": (
        r"number of episodes.*missing.*placement"
    ),
    "Number of Episodes the Child has been 'Absent' from their Placement in the last 12 months": (
        r"number of episodes.*absent.*placement"
    ),
}
