//! Diesel tables of the `*_engine_refit` migration (background refits and
//! course wake-ups), kept next to the queries that use them.

diesel::table! {
    /// The first real response per (ecosystem, student, exercise).
    engine_fit_responses (ecosystem_uuid, student_uuid, exercise_uuid) {
        /// The response's ecosystem, 16 bytes.
        ecosystem_uuid -> Binary,
        /// The student, 16 bytes.
        student_uuid -> Binary,
        /// The exercise, 16 bytes.
        exercise_uuid -> Binary,
        /// Unix microseconds.
        responded_at -> BigInt,
        /// The response, 16 bytes.
        response_uuid -> Binary,
        /// Correctness.
        is_correct -> Bool,
    }
}

diesel::table! {
    /// Real-response count per exercise group.
    engine_group_counts (group_uuid) {
        /// The exercise group, 16 bytes.
        group_uuid -> Binary,
        /// Distinct trials with a real response.
        response_count -> BigInt,
    }
}

diesel::table! {
    /// The thresholds an ecosystem's last refit set.
    engine_refit_thresholds (ecosystem_uuid) {
        /// The ecosystem, 16 bytes.
        ecosystem_uuid -> Binary,
        /// The blob's format version.
        format_version -> BigInt,
        /// The serialized thresholds, verbatim.
        thresholds -> Binary,
    }
}

diesel::table! {
    /// The next wake-up of each (consumer, course).
    engine_course_schedules (consumer, course_uuid) {
        /// The consumer's name.
        consumer -> Text,
        /// The course, 16 bytes.
        course_uuid -> Binary,
        /// Unix microseconds; NULL = none.
        wake_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// The ecosystems each (consumer, course) depends on.
    engine_course_ecosystems (ecosystem_uuid, consumer, course_uuid) {
        /// The ecosystem, 16 bytes.
        ecosystem_uuid -> Binary,
        /// The consumer's name.
        consumer -> Text,
        /// The course, 16 bytes.
        course_uuid -> Binary,
    }
}
