//! Organizations and workspaces over HTTP: members and their roles, listing, cascades.

use reqwest::Method;
use serde_json::json;

use super::*;

#[tokio::test]
async fn organization_members_get_roles_and_leave() {
    let api = Api::start();
    let ada = api.user("Ada", "Byron").await;
    let (status, org) = api
        .form(
            Method::POST,
            "/organizations",
            &[
                ("name", "Analytical Engines"),
                ("description", "gears"),
                ("private_metadata", r#"{"tier":1}"#),
            ],
        )
        .await;
    assert_eq!(status, 200, "{org}");
    assert_shape(&org, GROUP);
    assert_eq!(
        (&org["member_count"], &org["private_metadata"]),
        (&json!(0), &json!({"tier": 1}))
    );
    let org_id = org["id"].as_str().unwrap();
    let path = format!("/organizations/{org_id}");

    let (status, roles) = api.get(&format!("{path}/roles")).await;
    assert_eq!(status, 200);
    assert_page(&roles, 2, false);
    roles["data"]
        .as_array()
        .unwrap()
        .iter()
        .for_each(|role| assert_shape(role, ROLE));
    let admin = api.role(&path, "admin").await;
    let member = api.role(&path, "member").await;

    let (status, added) = api
        .json(
            Method::POST,
            &format!("{path}/members"),
            json!({"user_id": ada, "role_ids": [member]}),
        )
        .await;
    assert_eq!(status, 200, "{added}");
    assert_shape(&added, &format!("{MEMBER} organization_id:s"));
    assert_eq!(
        (&added["user_id"], &added["first_name"]),
        (&json!(ada), &json!("Ada"))
    );
    assert_eq!(added["roles"][0]["name"], "member");
    let membership = added["id"].as_str().unwrap();
    assert_error(
        &api.json(
            Method::POST,
            &format!("{path}/members"),
            json!({"user_id": ada, "role_ids": []}),
        )
        .await,
        409,
    );

    let (status, members) = api.get(&format!("{path}/members")).await;
    assert_eq!(status, 200);
    assert_page(&members, 1, false);
    assert_eq!(members["data"][0], added);
    let (_, details) = api.get(&path).await;
    assert_shape(
        &details,
        &format!("{GROUP} roles:a workspaces:a segments:a"),
    );
    assert_eq!(details["member_count"], 1);

    let member_path = format!("{path}/members/{membership}");
    let (status, updated) = api
        .json(
            Method::PATCH,
            &member_path,
            json!({"role_ids": [admin], "public_metadata": {"title": "countess"}}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["roles"][0]["name"], "admin");
    assert_eq!(updated["public_metadata"], json!({"title": "countess"}));
    let (status, both) = api
        .raw(
            Method::POST,
            &format!("{member_path}/roles/{member}"),
            None,
            vec![],
        )
        .await;
    assert_eq!(status, 200, "{both}");
    let names: Vec<&str> = both["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "member"]);
    let (status, one) = api.delete(&format!("{member_path}/roles/{admin}")).await;
    assert_eq!((status, &one["roles"][0]["name"]), (200, &json!("member")));
    assert_eq!(one["roles"].as_array().unwrap().len(), 1);

    let (status, mine) = api
        .get(&format!("/users/{ada}/organization-memberships"))
        .await;
    assert_eq!(status, 200);
    assert_page(&mine, 1, false);
    assert_shape(
        &mine["data"][0],
        "id:s created_at:s updated_at:s organization_id:s user_id:s public_metadata:* roles:a organization:o",
    );
    assert_shape(&mine["data"][0]["organization"], GROUP);
    assert_eq!(
        mine["data"][0]["organization"]["name"],
        "Analytical Engines"
    );

    // A new role, then a duplicate name.
    let (status, role) = api
        .json(
            Method::POST,
            &format!("{path}/roles"),
            json!({"name": "auditor", "permissions": ["billing:read"]}),
        )
        .await;
    assert_eq!(status, 200, "{role}");
    assert_shape(&role, ROLE);
    assert_eq!(role["permissions"], json!(["billing:read"]));
    assert_error(
        &api.json(
            Method::POST,
            &format!("{path}/roles"),
            json!({"name": "auditor", "permissions": []}),
        )
        .await,
        409,
    );

    assert_eq!(api.delete(&member_path).await, (200, json!({})));
    assert_page(&api.get(&format!("{path}/members")).await.1, 0, false);
    assert_error(&api.delete(&member_path).await, 404);
    assert_eq!(api.get(&path).await.1["member_count"], 0);
}

#[tokio::test]
async fn workspaces_belong_to_organizations_and_deletes_cascade() {
    let api = Api::start();
    let alan = api.user("Alan", "Turing").await;
    let org = api.organization("Bletchley").await;
    let (status, ws) = api
        .form(
            Method::POST,
            &format!("/organizations/{org}/workspaces"),
            &[("name", "Hut 8")],
        )
        .await;
    assert_eq!(status, 200, "{ws}");
    assert_shape(&ws, GROUP);
    let ws_id = ws["id"].as_str().unwrap();
    let ws_path = format!("/workspaces/{ws_id}");

    let (status, list) = api.get("/workspaces").await;
    assert_eq!(status, 200);
    assert_page(&list, 1, false);
    assert_shape(
        &list["data"][0],
        "id:s created_at:s updated_at:s name:s image_url:s description:s member_count:n organization_name:s",
    );
    assert_eq!(list["data"][0]["organization_name"], "Bletchley");
    let (status, details) = api.get(&ws_path).await;
    assert_eq!(status, 200);
    assert_shape(
        &details,
        &format!("{GROUP} organization_id:s organization_name:s roles:a segments:a"),
    );
    assert_eq!(details["organization_id"], org);
    let (_, org_details) = api.get(&format!("/organizations/{org}")).await;
    assert_eq!(org_details["workspaces"][0]["id"], ws_id);

    // Joining the workspace joins its organization.
    let editor = api.role(&ws_path, "member").await;
    let (status, member) = api
        .json(
            Method::POST,
            &format!("{ws_path}/members"),
            json!({"user_id": alan, "role_ids": [editor]}),
        )
        .await;
    assert_eq!(status, 200, "{member}");
    assert_shape(&member, &format!("{MEMBER} workspace_id:s"));
    let (_, mine) = api
        .get(&format!("/users/{alan}/workspace-memberships"))
        .await;
    assert_page(&mine, 1, false);
    let entry = &mine["data"][0];
    assert_shape(
        entry,
        "id:s created_at:s updated_at:s workspace_id:s organization_id:s organization_membership_id:s user_id:s public_metadata:* roles:a workspace:o",
    );
    let (_, org_members) = api.get(&format!("/organizations/{org}/members")).await;
    assert_eq!(
        entry["organization_membership_id"],
        org_members["data"][0]["id"]
    );
    assert_error(
        &api.json(
            Method::POST,
            &format!("{ws_path}/members"),
            json!({"user_id": alan, "role_ids": []}),
        )
        .await,
        409,
    );
    let (status, patched) = api
        .json(
            Method::PATCH,
            &format!("{ws_path}/members/{}", member["id"].as_str().unwrap()),
            json!({"role_ids": []}),
        )
        .await;
    assert_eq!((status, &patched["roles"]), (200, &json!([])));

    let (status, renamed) = api
        .form(
            Method::PATCH,
            &ws_path,
            &[("name", "Hut 6"), ("description", "bombes")],
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(
        (
            &renamed["name"],
            &renamed["description"],
            &renamed["member_count"]
        ),
        (&json!("Hut 6"), &json!("bombes"), &json!(1))
    );
    let (_, renamed_org) = api
        .form(
            Method::PATCH,
            &format!("/organizations/{org}"),
            &[("name", "GC&CS")],
        )
        .await;
    assert_eq!(renamed_org["name"], "GC&CS");
    assert_eq!(
        api.get("/workspaces?search=gc%26cs").await.1["data"][0]["name"],
        "Hut 6"
    );

    // Deleting the user ends their memberships.
    assert_eq!(
        api.delete(&format!("/users/{alan}")).await,
        (200, json!({}))
    );
    assert_page(&api.get(&format!("{ws_path}/members")).await.1, 0, false);
    assert_page(
        &api.get(&format!("/organizations/{org}/members")).await.1,
        0,
        false,
    );

    // Deleting the organization deletes its workspaces, roles and memberships.
    let joan = api.user("Joan", "Clarke").await;
    let (status, _) = api
        .json(
            Method::POST,
            &format!("{ws_path}/members"),
            json!({"user_id": joan, "role_ids": []}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        api.delete(&format!("/organizations/{org}")).await,
        (200, json!({}))
    );
    assert_error(&api.get(&ws_path).await, 404);
    assert_error(&api.get(&format!("{ws_path}/roles")).await, 404);
    assert_page(&api.get("/workspaces").await.1, 0, false);
    assert_page(&api.get("/organizations").await.1, 0, false);
    assert_page(
        &api.get(&format!("/users/{joan}/organization-memberships"))
            .await
            .1,
        0,
        false,
    );
    assert_page(
        &api.get(&format!("/users/{joan}/workspace-memberships"))
            .await
            .1,
        0,
        false,
    );

    // Deleting a workspace leaves its organization.
    let org = api.organization("Other").await;
    let (_, ws) = api
        .form(
            Method::POST,
            &format!("/organizations/{org}/workspaces"),
            &[("name", "W")],
        )
        .await;
    assert_eq!(
        api.delete(&format!("/workspaces/{}", ws["id"].as_str().unwrap()))
            .await,
        (200, json!({}))
    );
    assert_eq!(api.get(&format!("/organizations/{org}")).await.0, 200);
}

#[tokio::test]
async fn organization_lists_page_search_and_sort() {
    let api = Api::start();
    for name in ["Charlie", "alpha", "Bravo"] {
        api.organization(name).await;
    }
    let (status, page) = api.get("/organizations?limit=2").await;
    assert_eq!(status, 200);
    assert_page(&page, 2, true);
    assert_eq!((&page["limit"], &page["offset"]), (&json!(2), &json!(0)));
    assert_eq!(page["data"][0]["name"], "Charlie");
    let (_, page) = api.get("/organizations?limit=2&offset=2").await;
    assert_page(&page, 1, false);
    let (_, page) = api
        .get("/organizations?sort_key=name&sort_order=desc")
        .await;
    let names: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Charlie", "Bravo", "alpha"]);
    let (_, page) = api.get("/organizations?search=ALP").await;
    assert_page(&page, 1, false);
    assert_eq!(page["data"][0]["name"], "alpha");
}
