//! Request bodies modelled on what Tutor sends (api.md §6.1 and the recorded
//! cassettes of openstax/tutor-server `spec/cassettes/OpenStax_Biglearn_Api_RealClient`):
//! 6 fractional digits, the ecosystem uuid as the root container's parent,
//! bare uuids as chapter CNX identities, a CLUE pool plus reading/homework/
//! practice pools per page, `exclusion_info` with only the present dates.

#![allow(dead_code)]

use serde_json::{json, Value};

pub const ECOSYSTEM: &str = "4a7a95f9-34c2-4c95-ad6a-eeea135c0f87";
pub const NEXT_ECOSYSTEM: &str = "48da1a44-759a-4224-a801-d724d85f1805";
pub const COURSE: &str = "b99a0f12-98df-4082-a23e-3c69485d0d89";
pub const BOOK: &str = "63e82af1-edf1-4ad1-a928-ab47cd59e925";
pub const CHAPTER: &str = "6a36be15-e3d0-4587-aae4-3c09a662a187";
pub const PAGE: &str = "a45f73ab-c847-40f7-b7ca-b76a7e6f01a9";
pub const EXERCISES: [&str; 3] = [
    "5ce48875-8ee0-4853-aea1-18d6a9fe67d3",
    "86f56e0d-eab8-40b4-b045-24786158f758",
    "51917547-f43d-4ca1-beb0-48ed6fd680cd",
];
pub const GROUPS: [&str; 3] = [
    "49787724-284c-45bc-81de-0537a0a402e6",
    "dc45d0fb-2597-4b1b-b548-8e1861859e44",
    "11ffbfc0-69b8-4d1f-a813-047c2ff729a6",
];
pub const PERIOD: &str = "4dd79ccd-62ec-489c-a7a0-3dd958f7926d";
pub const STUDENTS: [&str; 2] = [
    "0ba86ff3-edf7-4b34-ba11-b284a192c880",
    "23a1fdc6-8c6a-4de9-b2c8-b7b0d1697334",
];
pub const ASSIGNMENT: &str = "8b4fec13-9a7f-466c-acfb-1d9f1d95b51f";
pub const TRIALS: [&str; 2] = [
    "a848b203-15c4-4623-85e0-c39b23314bce",
    "3c81e038-30ca-4f33-98cb-44980dd7d7d8",
];
pub const CALCULATION: &str = "53677214-3a24-49bb-8891-8e44eb609f64";
pub const REQUESTS: [&str; 4] = [
    "2f5ac6b5-accf-4bcc-90dd-c4e510ddc20e",
    "45882cf3-20d0-4416-85c3-0eab615ff762",
    "124dbc91-74f5-4991-8da0-845c96ead085",
    "54c16e1b-8e3c-4bd2-aa6f-796ef122e327",
];
pub const PREPARATION: &str = "5bf54309-4a79-442c-80ac-827c2ecfeb4e";

pub fn create_ecosystem() -> Value {
    json!({
        "ecosystem_uuid": ECOSYSTEM,
        "book": {
            "cnx_identity": "9ba7f072-ebd5-4adf-ad18-7a181715089c@4",
            "title": "College Physics",
            "contents": [
                {
                    "container_uuid": BOOK,
                    "container_parent_uuid": ECOSYSTEM,
                    "container_cnx_identity": "9ba7f072-ebd5-4adf-ad18-7a181715089c@4",
                    "pools": []
                },
                {
                    "container_uuid": CHAPTER,
                    "container_parent_uuid": BOOK,
                    "container_cnx_identity": CHAPTER,
                    "pools": [{
                        "use_for_clue": true,
                        "use_for_personalized_for_assignment_types": [],
                        "exercise_uuids": EXERCISES
                    }]
                },
                {
                    "container_uuid": PAGE,
                    "container_parent_uuid": CHAPTER,
                    "container_cnx_identity": "640e3e84-09a5-4033-b2a7-b7fe5ec29dc6@4.101",
                    "pools": [
                        {
                            "use_for_clue": true,
                            "use_for_personalized_for_assignment_types": [],
                            "exercise_uuids": EXERCISES
                        },
                        {
                            "use_for_clue": false,
                            "use_for_personalized_for_assignment_types": ["reading"],
                            "exercise_uuids": [EXERCISES[0], EXERCISES[1]]
                        },
                        {
                            "use_for_clue": false,
                            "use_for_personalized_for_assignment_types": ["homework"],
                            "exercise_uuids": [EXERCISES[2]],
                            "pool_note": {"kept": [1, 2, 3]}
                        },
                        {
                            "use_for_clue": false,
                            "use_for_personalized_for_assignment_types": ["practice"],
                            "exercise_uuids": EXERCISES
                        }
                    ]
                }
            ]
        },
        "exercises": [
            {
                "exercise_uuid": EXERCISES[0],
                "group_uuid": GROUPS[0],
                "version": 1,
                "los": ["cnxmod:640e3e84-09a5-4033-b2a7-b7fe5ec29dc6", "k12phys-ch04-s02-lo02", "lo:stax-k12phys:4-2-2"]
            },
            {
                "exercise_uuid": EXERCISES[1],
                "group_uuid": GROUPS[1],
                "version": 3,
                "los": ["cnxmod:640e3e84-09a5-4033-b2a7-b7fe5ec29dc6", "lo:stax-k12phys:4-2-2"]
            },
            {
                "exercise_uuid": EXERCISES[2],
                "group_uuid": GROUPS[2],
                "version": 1,
                "los": ["cnxmod:640e3e84-09a5-4033-b2a7-b7fe5ec29dc6", "lo:stax-k12phys:4-2-1"],
                "aplos": ["aplo:stax-phys:1"]
            }
        ],
        "imported_at": "2017-06-27T23:26:43.596909Z"
    })
}

pub fn create_course() -> Value {
    json!({
        "course_uuid": COURSE,
        "ecosystem_uuid": ECOSYSTEM,
        "is_real_course": true,
        "starts_at": "2017-06-20T23:26:43.596909Z",
        "ends_at": "2017-12-20T23:26:43.596909Z",
        "created_at": "2017-06-27T23:26:44.123456Z"
    })
}

pub fn update_course_active_dates() -> Value {
    json!({
        "request_uuid": REQUESTS[0],
        "course_uuid": COURSE,
        "sequence_number": 4,
        "starts_at": "2017-06-20T23:26:43.596Z",
        "ends_at": "2018-01-20T23:26:43.596Z",
        "updated_at": "2017-07-01T10:00:00.000001Z"
    })
}

pub fn update_rosters() -> Value {
    json!({"rosters": [{
        "request_uuid": REQUESTS[1],
        "course_uuid": COURSE,
        "sequence_number": 3,
        "course_containers": [
            {
                "container_uuid": PERIOD,
                "parent_container_uuid": COURSE,
                "created_at": "2017-06-27T23:26:45.927417Z"
            },
            {
                "container_uuid": "e88215c7-b3c0-4f86-8e6e-5b6af5337019",
                "parent_container_uuid": COURSE,
                "created_at": "2017-06-27T23:26:45.927417Z",
                "archived_at": null
            }
        ],
        "students": [
            {
                "student_uuid": STUDENTS[0],
                "container_uuid": PERIOD,
                "enrolled_at": "2017-06-27T23:26:46.047659Z",
                "last_course_container_change_at": "2017-06-27T23:26:46.077294Z"
            },
            {
                "student_uuid": STUDENTS[1],
                "container_uuid": PERIOD,
                "enrolled_at": "2017-06-27T23:26:46.260331Z",
                "last_course_container_change_at": "2017-06-27T23:26:46.278905Z",
                "dropped_at": "2017-07-27T23:26:46.278905Z"
            }
        ]
    }]})
}

pub fn prepare_course_ecosystem() -> Value {
    json!({
        "preparation_uuid": PREPARATION,
        "course_uuid": COURSE,
        "sequence_number": 5,
        "next_ecosystem_uuid": NEXT_ECOSYSTEM,
        "ecosystem_map": {
            "from_ecosystem_uuid": ECOSYSTEM,
            "to_ecosystem_uuid": NEXT_ECOSYSTEM,
            "book_container_mappings": [
                {"from_book_container_uuid": PAGE, "to_book_container_uuid": PAGE}
            ],
            "exercise_mappings": [
                {"from_exercise_uuid": EXERCISES[0], "to_book_container_uuid": PAGE},
                {"from_exercise_uuid": EXERCISES[1], "to_book_container_uuid": PAGE}
            ]
        },
        "prepared_at": "2017-06-27T23:26:55.869780Z"
    })
}

pub fn update_course_ecosystems() -> Value {
    json!({"update_requests": [{
        "request_uuid": REQUESTS[2],
        "course_uuid": COURSE,
        "sequence_number": 6,
        "preparation_uuid": PREPARATION,
        "updated_at": "2017-06-28T00:00:00.000000Z"
    }]})
}

pub fn update_globally_excluded_exercises() -> Value {
    json!({
        "request_uuid": REQUESTS[3],
        "course_uuid": COURSE,
        "sequence_number": 1,
        "exclusions": [
            {"exercise_uuid": EXERCISES[0]},
            {"exercise_group_uuid": GROUPS[1]}
        ],
        "updated_at": "2017-07-28T20:53:08.134287Z"
    })
}

pub fn update_course_excluded_exercises() -> Value {
    json!({
        "request_uuid": REQUESTS[0],
        "course_uuid": COURSE,
        "sequence_number": 2,
        "exclusions": [{"exercise_group_uuid": GROUPS[2]}],
        "updated_at": "2017-07-28T20:53:08.134287Z"
    })
}

pub fn create_update_assignments() -> Value {
    json!({"assignments": [{
        "request_uuid": REQUESTS[1],
        "course_uuid": COURSE,
        "sequence_number": 385,
        "assignment_uuid": ASSIGNMENT,
        "is_deleted": false,
        "ecosystem_uuid": ECOSYSTEM,
        "student_uuid": STUDENTS[0],
        "assignment_type": "reading",
        "exclusion_info": {
            "opens_at": "2017-06-27T23:26:47.514672Z",
            "due_at": "2017-07-04T23:26:47.514672Z",
            "closes_at": "2017-07-11T23:26:47.514672Z"
        },
        "pes": {"calculation_uuid": CALCULATION},
        "assigned_book_container_uuids": [PAGE],
        "goal_num_tutor_assigned_spes": 3,
        "spes_are_assigned": false,
        "goal_num_tutor_assigned_pes": 3,
        "pes_are_assigned": false,
        "assigned_exercises": [
            {"trial_uuid": TRIALS[0], "exercise_uuid": EXERCISES[0], "is_spe": false, "is_pe": false},
            {"trial_uuid": TRIALS[1], "exercise_uuid": EXERCISES[1], "is_spe": false, "is_pe": true}
        ],
        "created_at": "2017-06-27T23:26:49.142898Z",
        "updated_at": "2017-06-27T23:26:49.142925Z"
    }]})
}

pub fn response(index: usize, response_uuid: &str, sequence_number: u64) -> Value {
    json!({
        "response_uuid": response_uuid,
        "course_uuid": COURSE,
        "sequence_number": sequence_number,
        "ecosystem_uuid": ECOSYSTEM,
        "trial_uuid": TRIALS[index % 2],
        "student_uuid": STUDENTS[index % 2],
        "exercise_uuid": EXERCISES[index % 3],
        "is_correct": index % 2 == 0,
        "is_real_response": true,
        "responded_at": "2017-06-27T23:27:01.000001Z"
    })
}

pub fn record_responses() -> Value {
    json!({"responses": [
        response(0, "ce7e4f35-9e63-49be-89ff-6084847e4261", 386),
        response(1, "712d4968-1557-4c8e-a49b-4df7ed942063", 387)
    ]})
}
