"""Routes of the volunteers capability: workbench pages and the volunteer's own menu under
/w/volunteers/ (namespace ``volunteers``), resident pages under /p/volunteers/
(namespace ``volunteers_portal``)."""

from django.urls import include, path

from linli.volunteers.views import mine, portal, workbench

workbench_patterns = [
    path("", workbench.home, name="home"),
    path("registrations/", workbench.registrations, name="registrations"),
    path("registrations/<int:pk>/review/", workbench.volunteer_review, name="volunteer_review"),
    path("people/", workbench.volunteer_list, name="volunteer_list"),
    path("people/new/", workbench.volunteer_create, name="volunteer_create"),
    path("people/<int:pk>/", workbench.volunteer_detail, name="volunteer_detail"),
    path("people/<int:pk>/status/", workbench.volunteer_status, name="volunteer_status"),
    path("entries/<int:pk>/reverse/", workbench.entry_reverse, name="entry_reverse"),
    path("activities/", workbench.activity_list, name="activity_list"),
    path("activities/new/", workbench.activity_create, name="activity_create"),
    path("activities/<int:pk>/", workbench.activity_detail, name="activity_detail"),
    path("signups/<int:pk>/check-in/", workbench.signup_check_in, name="signup_check_in"),
    path("claims/", workbench.claim_list, name="claim_list"),
    path("claims/<int:pk>/review/", workbench.claim_review, name="claim_review"),
    path("claims/<int:pk>/photo/", workbench.claim_photo, name="claim_photo"),
    path("store/", workbench.reward_list, name="reward_list"),
    path("store/<int:pk>/restock/", workbench.reward_restock, name="reward_restock"),
    path("redemptions/", workbench.redemption_list, name="redemption_list"),
    path("redemptions/<int:pk>/", workbench.redemption_handle, name="redemption_handle"),
    path("rankings/", workbench.rankings, name="rankings"),
    path("rules/", workbench.rule_list, name="rule_list"),
    # The volunteer's own menu.
    path("me/", mine.me, name="me"),
    path("me/activities/", mine.activities, name="me_activities"),
    path("me/activities/<int:pk>/sign-up/", mine.signup, name="me_signup"),
    path("me/activities/<int:pk>/check-in/", mine.check_in, name="me_check_in"),
    path("me/signups/<int:pk>/claim/", mine.claim, name="me_claim"),
    path("me/signups/<int:pk>/cancel/", mine.signup_cancel, name="me_signup_cancel"),
    path("me/points/", mine.points, name="me_points"),
    path("me/store/", mine.store, name="me_store"),
    path("me/store/<int:pk>/redeem/", mine.redeem, name="me_redeem"),
    path("me/redemptions/<int:pk>/cancel/", mine.redemption_cancel, name="me_redemption_cancel"),
]

portal_patterns = [
    path("apply/", portal.apply, name="apply"),
    path("board/", portal.board, name="board"),
    path("store/", portal.store, name="store"),
]

urlpatterns = [
    path("w/volunteers/", include((workbench_patterns, "volunteers"))),
    path("p/volunteers/", include((portal_patterns, "volunteers_portal"))),
]
