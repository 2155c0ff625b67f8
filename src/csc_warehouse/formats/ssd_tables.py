"""The Standard Safeguarding Dataset tables the warehouse reads and writes (ssd-tables.md, SSD 1.4.5).

Per table: its file name (``ssd_<table>.csv``), its key and the columns used, in the order an extract
writes them. Code translations shared by the reader (``ssd``) and the writer (``ssd_write``) are here
too, so the two cannot drift apart.
"""

from __future__ import annotations

# table -> (primary key, columns used)
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "person": ("pers_person_id", ("pers_person_id", "pers_sex", "pers_ethnicity", "pers_dob")),
    "disability": ("disa_table_id", ("disa_table_id", "disa_person_id", "disa_disability_code")),
    "contacts": (
        "cont_contact_id",
        (
            "cont_contact_id",
            "cont_person_id",
            "cont_contact_date",
            "cont_contact_source_code",
            "cont_contact_outcome_json",
        ),
    ),
    "early_help_episodes": (
        "earl_episode_id",
        (
            "earl_episode_id",
            "earl_person_id",
            "earl_episode_start_date",
            "earl_episode_end_date",
            "earl_episode_end_reason",
        ),
    ),
    "cin_episodes": (
        "cine_referral_id",
        (
            "cine_referral_id",
            "cine_person_id",
            "cine_referral_date",
            "cine_referral_source_code",
            "cine_referral_nfa",
            "cine_close_date",
            "cine_close_reason",
        ),
    ),
    "cin_assessments": (
        "cina_assessment_id",
        (
            "cina_assessment_id",
            "cina_person_id",
            "cina_referral_id",
            "cina_assessment_start_date",
            "cina_assessment_child_seen",
            "cina_assessment_auth_date",
            "cina_assessment_outcome_json",
            "cina_assessment_outcome_nfa",
        ),
    ),
    "assessment_factors": (
        "cinf_table_id",
        ("cinf_table_id", "cinf_assessment_id", "cinf_assessment_factors_json"),
    ),
    "cin_plans": (
        "cinp_cin_plan_id",
        (
            "cinp_cin_plan_id",
            "cinp_person_id",
            "cinp_referral_id",
            "cinp_cin_plan_start_date",
            "cinp_cin_plan_end_date",
        ),
    ),
    "cin_visits": (
        "cinv_cin_visit_id",
        ("cinv_cin_visit_id", "cinv_person_id", "cinv_cin_visit_date", "cinv_cin_visit_seen"),
    ),
    "s47_enquiry": (
        "s47e_s47_enquiry_id",
        (
            "s47e_s47_enquiry_id",
            "s47e_person_id",
            "s47e_referral_id",
            "s47e_s47_start_date",
            "s47e_s47_end_date",
            "s47e_s47_outcome_json",
        ),
    ),
    "initial_cp_conference": (
        "icpc_icpc_id",
        (
            "icpc_icpc_id",
            "icpc_s47_enquiry_id",
            "icpc_person_id",
            "icpc_referral_id",
            "icpc_icpc_date",
            "icpc_icpc_outcome_cp_flag",
        ),
    ),
    "cp_plans": (
        "cppl_cp_plan_id",
        (
            "cppl_cp_plan_id",
            "cppl_person_id",
            "cppl_referral_id",
            "cppl_cp_plan_start_date",
            "cppl_cp_plan_end_date",
            "cppl_cp_plan_initial_category",
        ),
    ),
    "cp_visits": (
        "cppv_cp_visit_id",
        ("cppv_cp_visit_id", "cppv_person_id", "cppv_cp_plan_id", "cppv_cp_visit_date", "cppv_cp_visit_seen"),
    ),
    "cp_reviews": (
        "cppr_cp_review_id",
        ("cppr_cp_review_id", "cppr_person_id", "cppr_cp_plan_id", "cppr_cp_review_date"),
    ),
    "cla_episodes": (
        "clae_cla_episode_id",
        (
            "clae_cla_episode_id",
            "clae_person_id",
            "clae_cla_id",
            "clae_cla_episode_start_date",
            "clae_cla_episode_start_reason",
            "clae_cla_episode_ceased_date",
            "clae_cla_episode_ceased_reason",
        ),
    ),
    "legal_status": (
        "lega_legal_status_id",
        (
            "lega_legal_status_id",
            "lega_person_id",
            "lega_legal_status",
            "lega_legal_status_start_date",
            "lega_legal_status_end_date",
        ),
    ),
    "cla_placement": (
        "clap_cla_placement_id",
        (
            "clap_cla_placement_id",
            "clap_cla_id",
            "clap_person_id",
            "clap_cla_placement_start_date",
            "clap_cla_placement_end_date",
            "clap_cla_placement_type",
            "clap_cla_placement_distance",
            "clap_cla_placement_change_reason",
        ),
    ),
    "cla_reviews": (
        "clar_cla_review_id",
        ("clar_cla_review_id", "clar_cla_id", "clar_cla_person_id", "clar_cla_review_date"),
    ),
    "cla_visits": (
        "clav_cla_visit_id",
        ("clav_cla_visit_id", "clav_cla_id", "clav_person_id", "clav_cla_visit_date", "clav_cla_visit_seen"),
    ),
    "cla_health": (
        "clah_health_check_id",
        (
            "clah_health_check_id",
            "clah_person_id",
            "clah_health_check_type",
            "clah_health_check_date",
            "clah_health_check_status",
        ),
    ),
    "sdq_scores": (
        "csdq_table_id",
        ("csdq_table_id", "csdq_person_id", "csdq_sdq_completed_date", "csdq_sdq_score"),
    ),
    "missing": (
        "miss_table_id",
        (
            "miss_table_id",
            "miss_person_id",
            "miss_missing_episode_start_date",
            "miss_missing_episode_end_date",
            "miss_missing_episode_type",
        ),
    ),
    "immigration_status": (
        "immi_immigration_status_id",
        (
            "immi_immigration_status_id",
            "immi_person_id",
            "immi_immigration_status",
            "immi_immigration_status_start_date",
            "immi_immigration_status_end_date",
        ),
    ),
    "care_leavers": (
        "clea_table_id",
        (
            "clea_table_id",
            "clea_person_id",
            "clea_care_leaver_in_touch",
            "clea_care_leaver_latest_contact",
            "clea_care_leaver_accommodation",
            "clea_care_leaver_accom_suitable",
            "clea_care_leaver_activity",
        ),
    ),
    "permanence": (
        "perm_table_id",
        (
            "perm_table_id",
            "perm_person_id",
            "perm_cla_id",
            "perm_adm_decision_date",
            "perm_placement_order_date",
            "perm_matched_date",
            "perm_placed_for_adoption_date",
            "perm_decision_reversed_date",
            "perm_decision_reversed_reason",
            "perm_permanence_order_date",
            "perm_permanence_order_type",
        ),
    ),
    "involvements": (
        "invo_involvements_id",
        (
            "invo_involvements_id",
            "invo_professional_id",
            "invo_professional_role_id",
            "invo_person_id",
            "invo_involvement_start_date",
        ),
    ),
}

UASC = "Unaccompanied Asylum Seeking Child"
HEALTH_TYPES = {"health_assessment": "Health Assessment", "dental_check": "Dental Check"}
COMPLETED = "Completed"
MISSING_TYPES = {"missing": "Missing", "away": "Away"}
# CP categories: the SSD writes words, the canonical form N/P/E/S/M.
CATEGORY_WORDS = {
    "N": "Neglect",
    "P": "Physical abuse",
    "E": "Emotional abuse",
    "S": "Sexual abuse",
    "M": "Multiple",
}
# Contact sources: the canonical groups as CIN referral-source codes, and back by the code's group.
CONTACT_TO_SOURCE = {
    "police": "6",
    "school": "2A",
    "health": "3F",
    "la": "5B",
    "individual": "1D",
    "other": "8",
}
SOURCE_GROUP = {"1": "individual", "2": "school", "3": "health", "4": "la", "5": "la", "6": "police"}
# A contact's outcome flags, and the canonical contact_decision code each stands for.
CONTACT_FLAGS = {"NEW_REFERRAL_FLAG": "referral", "ADVICE_FLAG": "advice", "NFA_FLAG": "nfa"}
EARLY_HELP_COMMENT = "early help"
# An assessment's outcome: the canonical code and the SSD flag that says it.
ASSESSMENT_FLAGS = {
    "nfa": "NFA_FLAG",
    "s47": "STRATEGY_DISCUSSION_FLAG",
    "cin": "PROV_OF_SERVICES_FLAG",
    "early_help": "REFERRAL_TO_OTHER_AGENCY_FLAG",
}
CASE_WORKER_ROLE = "CW"
MILES_TO_KM = 1.609344
ADOPTION_MILESTONES = {
    "adoption_decision": "perm_adm_decision_date",
    "placement_order": "perm_placement_order_date",
    "adoption_match": "perm_matched_date",
    "adoption_placed": "perm_placed_for_adoption_date",
    "adoption_plan_ceased": "perm_decision_reversed_date",
    "adoption_order": "perm_permanence_order_date",
}


def file_name(table: str) -> str:
    return f"ssd_{table}.csv"
